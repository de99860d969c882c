"""A store's track as bedGraph or bigWig (what IGV, igv.js and UCSC read), streamed.

Both list runs of equal value, which is what the store keeps: runs are read a batch of
chunks at a time (:meth:`~.store.CoverageStore.runs`), joined where one crosses a chunk
boundary, and written; runs of 0 (no coverage) are left out, as readers take a missing
base for no data.  Memory stays bounded whatever the genome.  bigWig files get zoom levels
(summaries at coarser and coarser resolutions), so viewers draw whole chromosomes from them.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from typing import Iterator, Optional, Tuple

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .store import CoverageStore

Runs = Tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, values
COPY_BLOCK = 8 << 20


def iter_runs(store: CoverageStore, contig: str, track: int) -> Iterator[Runs]:
    """Runs of equal non-zero value of one track of one contig, in order, joined across chunks."""
    pending: Optional[Runs] = None
    for starts, ends, values in store.runs(contig, track):
        if pending is not None and pending[1][-1] == starts[0] and pending[2][-1] == values[0]:
            starts = starts.copy()
            starts[0] = pending[0][-1]  # the run before continues here
            pending = tuple(part[:-1] for part in pending)
        if pending is not None and len(pending[0]):
            yield pending
        pending = (starts, ends, values)
    if pending is not None and len(pending[0]):
        yield pending


def export_bedgraph(store: CoverageStore, track, out: str, storage_options: Optional[dict] = None) -> int:
    """Write ``track`` (name or index) as bedGraph (0-based, half-open; tab-separated) to ``out``."""
    column = store.track_indexes([track])[0]
    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    lines = 0
    with fsspec.open(out, "wb", compression="infer", **(storage_options or {})) as handle:
        for contig in store.contigs:
            for starts, ends, values in iter_runs(store, contig["name"], column):
                table = pa.table({"chrom": pa.array([contig["name"]] * len(starts)), "start": starts, "end": ends,
                                  "value": _plain(values)})
                pacsv.write_csv(table, handle, options)
                lines += len(starts)
    return lines


def _plain(values: np.ndarray) -> np.ndarray:
    """Integral floats as integers, so bedGraph lines read ``3``, not ``3.0``."""
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0) and np.all(np.abs(values) < 2**53):
        return values.astype(np.int64)
    return values


def export_bigwig(store: CoverageStore, track, out: str, storage_options: Optional[dict] = None) -> int:
    """Write ``track`` as a bigWig file (with zoom levels) to ``out``, a local path or fsspec
    URL (written locally, then copied); returns the runs written.

    Written by bigtools (``pybigtools``): it keeps the zoom levels' data in temporary files,
    so memory stays flat whatever the genome (libBigWig, through pyBigWig, holds them in
    memory until it closes: 475 MB for chr20-22 at 30x, growing with the genome).
    """
    import pybigtools

    column = store.track_indexes([track])[0]
    local = "://" not in str(out) or str(out).startswith("file://")
    scratch = None if local else tempfile.mkdtemp(prefix="sparkbam-bigwig-")
    path = str(out).replace("file://", "", 1) if local else os.path.join(scratch, "out.bw")
    counted = [0]

    def entries():
        for contig in store.contigs:
            name = contig["name"]
            for starts, ends, values in iter_runs(store, name, column):
                counted[0] += len(starts)
                yield from zip(itertools.repeat(name, len(starts)), starts.tolist(), ends.tolist(),
                               values.astype(np.float64).tolist())

    try:
        chromosomes = {contig["name"]: contig["length"] for contig in store.contigs if contig["length"] > 0}
        pybigtools.open(path, "w").write(chromosomes, entries())
        if scratch is not None:
            with open(path, "rb") as source, fsspec.open(out, "wb", **(storage_options or {})) as target:
                shutil.copyfileobj(source, target, COPY_BLOCK)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return counted[0]
