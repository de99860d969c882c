"""Bringing per-base values made elsewhere into a coverage store.

* A bedGraph (``chrom start end value``, 0-based half-open): one track.
* A per-base table (a header row, then ``[contig,] position, [strand,] value per sample``):
  one track per sample (and strand: ``<sample>:+`` / ``<sample>:-``); bases it does not
  list are 0.

Either way the store holds runs of equal value (:mod:`.runs`), so its size follows the
lines, not the contigs' lengths.

Contig lengths come from ``lengths`` (e.g. :func:`read_lengths` of a ``.fai``); without it,
a contig ends after its last listed base.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import ConfigError, CorruptDataError
from .store_writer import StoreWriter

STRANDS = ("+", "-")
BEDGRAPH_SKIP = ("track", "browser", "#")


def read_lengths(path: str) -> Dict[str, int]:
    """``{contig: length}`` from a ``.fai`` or a two-column genome file."""
    lengths = {}
    with fsspec.open(path, "rt") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2 and fields[1].isdigit():
                lengths[fields[0]] = int(fields[1])
    return lengths


def _contig_lengths(names: Sequence[str], ends: Dict[str, int], lengths: Optional[Dict[str, int]], path: str):
    if lengths is None:
        return [(name, ends[name]) for name in names]
    missing = [name for name in names if name not in lengths]
    if missing:
        raise ConfigError(f"contig(s) {', '.join(missing[:5])} have no length in the lengths given", path)
    too_long = [name for name in names if ends[name] > lengths[name]]
    if too_long:
        raise CorruptDataError(f"values past the end of contig(s) {', '.join(too_long[:5])}", path)
    return [(name, lengths[name]) for name in lengths]


def _read_table(path: str, column_names=None, delimiter: str = "\t") -> pa.Table:
    with fsspec.open(path, "rb", compression="infer") as handle:
        text = handle.read()
    if column_names is not None:  # bedGraph: drop its track/browser/comment lines first
        lines = [line for line in text.splitlines(keepends=True) if not line.startswith(tuple(s.encode() for s in BEDGRAPH_SKIP))]
        text = b"".join(lines)
    read = pacsv.ReadOptions(column_names=column_names, autogenerate_column_names=False)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    try:
        return pacsv.read_csv(pa.BufferReader(text), read_options=read, parse_options=parse)
    except pa.ArrowInvalid as bad:
        raise CorruptDataError(f"not a table of the expected kind: {bad}", path) from None


def import_bedgraph(path: str, out: str, *, track: str = "value", lengths: Optional[Dict[str, int]] = None,
                    storage_options: Optional[dict] = None) -> dict:
    """A bedGraph as a one-track dense store at ``out``; returns the manifest."""
    convert = {"chrom": pa.string(), "start": pa.int64(), "end": pa.int64(), "value": pa.float64()}
    table = _read_table(path, list(convert))
    table = table.cast(pa.schema([(name, kind) for name, kind in convert.items()]))
    chrom, starts = table["chrom"].to_numpy(zero_copy_only=False), table["start"].to_numpy()
    ends, values = table["end"].to_numpy(), table["value"].to_numpy()
    if np.any(starts < 0) or np.any(ends <= starts):
        raise CorruptDataError("a bedGraph interval is empty, reversed or negative", path)
    names = list(dict.fromkeys(chrom.tolist()))
    contig_ends = {name: int(ends[chrom == name].max()) for name in names}
    contigs = _contig_lengths(names, contig_ends, lengths, path)
    writer = StoreWriter(out, contigs, [track], metadata={"sources": [path], "imported_from": "bedgraph"},
                         storage_options=storage_options)
    for index, (name, _) in enumerate(contigs):
        rows = np.flatnonzero(chrom == name)
        order = rows[np.argsort(starts[rows], kind="stable")]
        if np.any(starts[order][1:] < ends[order][:-1]):
            raise CorruptDataError(f"bedGraph intervals of contig {name} overlap", path)
        writer.write_intervals(index, starts[order], ends[order], values[order])
    return writer.close()


def import_table(path: str, out: str, *, lengths: Optional[Dict[str, int]] = None, contig: Optional[str] = None,
                 one_based: bool = False, delimiter: str = "\t", storage_options: Optional[dict] = None) -> dict:
    """A per-base table (header row; ``contig`` optional if ``contig`` is given, ``position``,
    optional ``strand``, then one numeric column per sample) as a store; the manifest."""
    table = _read_table(path, delimiter=delimiter)
    columns = table.column_names
    if "position" not in columns:
        raise CorruptDataError(f"the table has no 'position' column (columns: {', '.join(columns)})", path)
    samples = [name for name in columns if name not in ("contig", "position", "strand")]
    if not samples:
        raise CorruptDataError("the table has no value column", path)
    if "contig" in columns:
        contigs_of_rows = table["contig"].cast(pa.string()).to_numpy(zero_copy_only=False)
    elif contig is not None:
        contigs_of_rows = np.full(table.num_rows, contig, dtype=object)
    else:
        raise ConfigError("the table has no 'contig' column: name the contig", path)
    positions = table["position"].cast(pa.int64()).to_numpy() - (1 if one_based else 0)
    if np.any(positions < 0):
        raise CorruptDataError("negative position in the table", path)
    strands = ["+"] if "strand" not in columns else None
    strand_codes = np.zeros(table.num_rows, dtype=np.int64)
    if "strand" in columns:
        strand_text = table["strand"].cast(pa.string())
        strand_codes = pc.index_in(strand_text, value_set=pa.array(STRANDS)).to_numpy(zero_copy_only=False)
        if np.any(np.isnan(strand_codes.astype(float))):
            raise CorruptDataError("a strand is neither '+' nor '-'", path)
        strand_codes = strand_codes.astype(np.int64)
        strands = list(STRANDS)
    tracks = [f"{sample}:{strand}" if "strand" in columns else sample for sample in samples for strand in strands]
    values = np.stack([table[sample].cast(pa.float64()).to_numpy(zero_copy_only=False) for sample in samples], axis=1)
    names = list(dict.fromkeys(contigs_of_rows.tolist()))
    contig_ends = {name: int(positions[contigs_of_rows == name].max()) + 1 for name in names}
    contigs = _contig_lengths(names, contig_ends, lengths, path)
    metadata = {"sources": [path], "imported_from": "table",
                "strands": {track: track[-1] for track in tracks} if "strand" in columns else {}}
    writer = StoreWriter(out, contigs, tracks, metadata=metadata, storage_options=storage_options)
    for index, (name, _) in enumerate(contigs):
        rows = np.flatnonzero(contigs_of_rows == name)
        unique, row_of = np.unique(positions[rows], return_inverse=True)
        matrix = np.zeros((len(unique), len(samples), len(strands)))
        seen = np.zeros((len(unique), len(strands)), dtype=np.int64)
        np.add.at(seen, (row_of, strand_codes[rows]), 1)
        if seen.max(initial=0) > 1:
            raise CorruptDataError(f"a position of {name} is listed twice for one strand", path)
        matrix[row_of, :, strand_codes[rows]] = values[rows]
        writer.write_sparse_contig(index, unique, matrix.reshape(len(unique), -1))
    return writer.close()
