"""GFF3 and GTF (GFF2) feature lines into Arrow, vectorised.

Columns: ``seqid``, ``source``, ``type``, ``start``, ``end``, ``score``, ``strand``,
``phase``, ``attributes`` (map<string,string>).  GFF is 1-based and closed (GFF3 spec,
columns 4-5); the DataFrame is 0-based half-open like BED and Glow: ``start = GFF start - 1``
and ``end = GFF end``.  A lone ``.`` (undefined, GFF3 spec) in source, score, strand or
phase is null.  The attribute syntax is read per line (GFF3 ``tag=value`` or GTF
``key "value"``), or forced with ``option("gffFlavor", "gff3"|"gtf")``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from .fields import TabFields, cast_text, missing_to_null
from .format import LineSource, as_string_array, get_option, with_corrupt_column
from .gff_attributes import attributes_map, is_gff3_attributes
from .problems import RowProblems, finish_batch

GFF_COLUMNS = 9  # GFF3 spec: exactly nine tab-separated columns
FLAVORS = ("auto", "gff3", "gtf")
GFF_SCHEMA = pa.schema([
    pa.field("seqid", pa.string()),
    pa.field("source", pa.string()),
    pa.field("type", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("score", pa.float64()),
    pa.field("strand", pa.string()),
    pa.field("phase", pa.int32()),
    pa.field("attributes", pa.map_(pa.string(), pa.string())),
])


@dataclass
class GffHeader:
    """The ``#``/``##`` lines before the features; ``version`` from ``##gff-version``."""

    lines: list = field(default_factory=list)
    version: str = ""
    contig_column: str = "seqid"
    start_column: str = "start"


class GffFormat:
    """The ``gff`` format (GFF3 and GTF) of the :class:`~.format.TextFormat` protocol."""

    name = "gff"
    contig_column = "seqid"
    start_column = "start"

    def parse_header(self, header_lines: list, options: Mapping) -> GffHeader:
        version = next((line.split()[1] for line in header_lines
                        if line.startswith("##gff-version") and len(line.split()) > 1), "")
        return GffHeader(list(header_lines), version)

    def schema(self, header: GffHeader, options: Mapping) -> pa.Schema:
        return with_corrupt_column(GFF_SCHEMA, options)

    def parse(self, lines: pa.Array, header: GffHeader, options: Mapping,
              where: LineSource) -> pa.RecordBatch:
        lines = as_string_array(lines)
        fields = TabFields(lines)
        problems = RowProblems(len(lines))
        # A trailing tab (an empty tenth column) carries nothing: tolerated.
        trailing_tab = np.asarray(pc.fill_null(pc.equal(fields.column(GFF_COLUMNS), ""), False), dtype=bool)
        problems.flag((fields.counts != GFF_COLUMNS) & ~((fields.counts == GFF_COLUMNS + 1) & trailing_tab),
                      f"not {GFF_COLUMNS} tab-separated columns")
        start, end = _interval(fields, problems)
        score = _number(fields, 5, pa.float64(), "score", problems)
        phase = _number(fields, 7, pa.int32(), "phase", problems)
        attributes = fields.column(8)
        gff3 = _flavor_per_line(attributes, header, options)
        columns = [fields.column(0), missing_to_null(fields.column(1)), fields.column(2),
                   start, end, score, missing_to_null(fields.column(6)), phase,
                   attributes_map(attributes, gff3)]
        return finish_batch(columns, self.schema(header, options), problems, lines, options, where)


def _interval(fields: TabFields, problems: RowProblems):
    start, bad = cast_text(fields.column(3), pa.int64())
    if bad is not None:
        problems.flag(bad, "start (column 4) is not an integer")
    end, bad = cast_text(fields.column(4), pa.int64())
    if bad is not None:
        problems.flag(bad, "end (column 5) is not an integer")
    problems.flag(np.asarray(pc.fill_null(pc.less(start, 1), False), dtype=bool),
                  "start is below 1 (GFF is 1-based)")
    start = pc.subtract(start, 1)
    problems.flag(np.asarray(pc.fill_null(pc.less(end, start), False), dtype=bool),
                  "end is before start")
    return start, end


def _number(fields: TabFields, index: int, type_: pa.DataType, name: str,
            problems: RowProblems) -> pa.Array:
    values, bad = cast_text(missing_to_null(fields.column(index)), type_)
    if bad is not None:
        problems.flag(bad, f"{name} (column {index + 1}) is not a number")
    return values


def _flavor_per_line(attributes: pa.Array, header: GffHeader, options: Mapping) -> np.ndarray:
    flavor = str(get_option(options, "gffFlavor", "auto")).lower()
    if flavor not in FLAVORS:
        raise ConfigError(f"option gffFlavor must be one of {FLAVORS}, got {flavor!r}")
    if flavor == "auto" and header.version.startswith("3"):
        flavor = "gff3"
    if flavor == "auto":
        return is_gff3_attributes(attributes)
    return np.full(len(attributes), flavor == "gff3")


GFF = GffFormat()
