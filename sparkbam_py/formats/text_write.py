"""The write side of the text formats: ``df.write.format("vcf" | "bed" | "gff" | "tabix")``
and the ``write_vcf``/``write_bed``/``write_gff``/``write_tsv`` functions both come here.

Options (keys case-insensitive, as Spark passes them):

* ``headerFrom``: a file whose header lines to write (a VCF's meta lines and samples, a
  BED's ``track`` lines, a GFF's pragmas, a TSV's ``#`` lines); ``header``: the same as text.
  Without either a header is built: a VCF's from the schema (:mod:`sparkbam_py.text.vcf_write_header`),
  ``##gff-version 3`` for GFF3, the column names for TSV, none for BED.
* ``sharded`` (false): a folder of complete files, one per partition, each with its index.
* ``index`` (true): ``.tbi`` (``.csi`` when an interval ends past 2^29), ``csi``, or false.
  Rows out of tabix order are refused (:class:`~sparkbam_py.write.text_commit.UnsortedOutputError`).
* ``sort`` (false): each task sorts its rows by contig (the header's order: VCF ``##contig``,
  GFF ``##sequence-region``, or option ``contigs``; other contigs after them by name), begin
  and end, and the parts are put in order; see :mod:`sparkbam_py.write.text_job`.
* ``compressionLevel`` (6), ``deflate`` (the BGZF writer's backend).
* BED ``bedColumns``; GFF ``gffFlavor``; TSV ``seqColumn``, ``beginColumn``, ``endColumn``,
  ``zeroBased`` (as the readers take them).
"""
from __future__ import annotations

from typing import Iterator, List, Mapping, Optional, Sequence

import pyarrow as pa

from ..config import parse_bool
from ..errors import ConfigError
from ..text.bed import HEADER_PREFIXES as BED_HEADER_PREFIXES
from ..text.bed_write import BedLineWriter
from ..text.gff_write import GffLineWriter, flavor_for
from ..text.read import read_file_header
from ..text.tsv_write import TsvLineWriter
from ..text.vcf_write import VcfLineWriter
from ..text.vcf_write_header import vcf_write_header
from ..text.write_lines import LineWriter
from ..write.commit import abort
from ..write.text_commit import commit_text
from ..write.text_job import TextWriteJob

SHARED_WRITE_OPTIONS = ("path", "headerFrom", "header", "sharded", "index", "sort", "contigs", "compressionLevel",
                        "deflate")
FORMAT_WRITE_OPTIONS = {
    "vcf": (),
    "bed": ("bedColumns",),
    "gff": ("gffFlavor",),
    "tabix": ("seqColumn", "beginColumn", "endColumn", "zeroBased"),
}


def header_lines(options: Mapping[str, str], prefixes: Sequence[str] = ("#",)) -> Optional[List[str]]:
    """The header lines ``headerFrom`` or ``header`` give (None: neither)."""
    if "headerfrom" in options and "header" in options:
        raise ConfigError("give headerFrom (a file) or header (text), not both")
    if "headerfrom" in options:
        return list(read_file_header(options["headerfrom"], tuple(prefixes)).lines)
    if "header" in options:
        return [line for line in str(options["header"]).splitlines() if line.strip()]
    return None


def line_writer_for(name: str, options: Mapping[str, str], schema: pa.Schema) -> LineWriter:
    """The format's line writer for rows of ``schema`` under ``options`` (keys lower case)."""
    if name == "vcf":
        return VcfLineWriter(vcf_write_header(schema, header_lines(options)))
    if name == "bed":
        columns = options.get("bedcolumns")
        return BedLineWriter(header_lines(options, BED_HEADER_PREFIXES) or (),
                             None if columns in (None, "", "auto") else int(columns))
    if name == "gff":
        lines = header_lines(options) or ()
        return GffLineWriter(lines, flavor_for(options.get("gffflavor", ""), lines, options.get("path", "")))
    if name == "tabix":
        number = {key: int(options.get(key, default)) for key, default in
                  (("seqcolumn", 1), ("begincolumn", 2), ("endcolumn", 0))}
        return TsvLineWriter(schema, number["seqcolumn"], number["begincolumn"], number["endcolumn"],
                             parse_bool("zeroBased", options.get("zerobased", "false")), header_lines(options))
    raise ConfigError(f"format {name!r} is read here, not written")


def contig_order(writer: LineWriter, options: Mapping[str, str]) -> List[str]:
    """The contig order ``sort`` follows: option ``contigs``, else the header's."""
    if options.get("contigs"):
        return [name.strip() for name in options["contigs"].split(",") if name.strip()]
    lines = getattr(getattr(writer, "header", None), "meta_lines", None) or getattr(writer, "header_lines", ())
    order = []
    for line in lines:
        if line.startswith("##contig=<"):
            fields = dict(part.split("=", 1) for part in line[len("##contig=<"):].rstrip(">").split(",") if "=" in part)
            if "ID" in fields:
                order.append(fields["ID"])
        elif line.startswith("##sequence-region") and len(line.split()) > 1:
            order.append(line.split()[1])
    return order


def open_text_write(name: str, options: Mapping[str, str], overwrite: bool, schema: Optional[pa.Schema],
                    append: Optional[bool] = None, writer: Optional[LineWriter] = None) -> "TextWrite":
    """A write job of format ``name``; options and header checked here, on the driver.
    ``append`` (default: not ``overwrite``, as Spark's data sources see mode "append") adds
    shards to an existing sharded output.  ``writer``: the line writer the caller already
    built from the same options (else built here: ``headerFrom`` is read once either way)."""
    given = {key.lower(): value for key, value in options.items()}
    known = {option.lower() for option in SHARED_WRITE_OPTIONS + FORMAT_WRITE_OPTIONS.get(name, ())}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(f"unknown write option(s) {', '.join(unknown)} for format {name!r}; known: "
                          f"{', '.join(sorted(known - {'path'}))}")
    if "path" not in given:
        raise ConfigError(f"df.write.format({name!r}) needs a path: .save(path)")
    if schema is None:
        raise ConfigError(f"writing {name} needs the rows' schema")
    writer = writer if writer is not None else line_writer_for(name, given, schema)
    sort = parse_bool("sort", given.get("sort", "false"))
    job = TextWriteJob.create(given["path"], writer, overwrite=overwrite,
                              append=(not overwrite) if append is None else append,
                              sharded=parse_bool("sharded", given.get("sharded", "false")),
                              index=given.get("index", "true"), level=given.get("compressionlevel"),
                              backend=given.get("deflate", ""),
                              sort_order=contig_order(writer, given) if sort else None)
    return TextWrite(job)


class TextWrite:
    """One text write: parts by the tasks, one commit (or abort) on the driver."""

    def __init__(self, job: TextWriteJob):
        self.job = job

    def write_part(self, batches: Iterator[pa.RecordBatch], partition: int, attempt: int):
        return self.job.write_part(batches, partition, attempt)

    def commit(self, summaries) -> dict:
        return commit_text(self.job, summaries)

    def abort(self) -> None:
        abort(self.job)
