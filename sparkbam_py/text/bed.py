"""BED (BED3 to BED12 and beyond) into Arrow, vectorised.

Columns follow the UCSC BED definition (https://genome.ucsc.edu/FAQ/FAQformat.html#format1,
and the GA4GH BEDv1 spec): ``chrom``, ``start``, ``end`` (already 0-based half-open, as
stored), then the optional ``name``, ``score``, ``strand``, ``thickStart``, ``thickEnd``,
``itemRgb``, ``blockCount``, ``blockSizes``, ``blockStarts``.  A line with fewer columns gets
nulls in the rest; columns past the twelfth (or past ``option("bedColumns", N)``) are kept as
strings in ``extraFields``.  ``track``/``browser``/``#`` lines are header.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from .fields import TabFields, cast_text, missing_to_null, typed_list
from .format import LineSource, as_string_array, get_option, with_corrupt_column
from .problems import RowProblems, finish_batch

# BEDv1 §1.5: three mandatory columns, nine optional ones.
MANDATORY_COLUMNS = 3
STANDARD_COLUMNS = 12
HEADER_PREFIXES = ("#", "track", "browser")

_LIST_OF_INT = pa.list_(pa.int32())
STANDARD_FIELDS = [
    pa.field("chrom", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("name", pa.string()),
    pa.field("score", pa.float64()),  # UCSC says 0-1000 integer; many files write floats
    pa.field("strand", pa.string()),
    pa.field("thickStart", pa.int64()),
    pa.field("thickEnd", pa.int64()),
    pa.field("itemRgb", pa.string()),
    pa.field("blockCount", pa.int32()),
    pa.field("blockSizes", _LIST_OF_INT),
    pa.field("blockStarts", _LIST_OF_INT),
]
EXTRA_FIELD = pa.field("extraFields", pa.list_(pa.string()))
# Columns where a lone '.' means "not given" (BEDv1 §1.6).
_DOT_IS_NULL = {"name", "score", "strand", "itemRgb"}


@dataclass
class BedHeader:
    """The ``track``/``browser``/comment lines before the data (kept verbatim)."""

    lines: list = field(default_factory=list)
    contig_column: str = "chrom"
    start_column: str = "start"


class BedFormat:
    """The ``bed`` format of the :class:`~sparkbam_py.text.format.TextFormat` protocol."""

    name = "bed"
    contig_column = "chrom"
    start_column = "start"

    def parse_header(self, header_lines: list, options: Mapping) -> BedHeader:
        return BedHeader(list(header_lines))

    def schema(self, header: BedHeader, options: Mapping) -> pa.Schema:
        fields = STANDARD_FIELDS[:_standard_count(options)] + [EXTRA_FIELD]
        return with_corrupt_column(pa.schema(fields), options)

    def parse(self, lines: pa.Array, header: BedHeader, options: Mapping,
              where: LineSource) -> pa.RecordBatch:
        lines = as_string_array(lines)
        count = _standard_count(options)
        fields = TabFields(lines)
        problems = RowProblems(len(lines))
        problems.flag(fields.counts < MANDATORY_COLUMNS,
                      f"fewer than {MANDATORY_COLUMNS} tab-separated columns")
        columns = [_typed_column(fields, i, STANDARD_FIELDS[i], problems) for i in range(count)]
        _check_interval(columns[1], columns[2], problems)
        extra = fields.rest_from(count)
        extra = pc.if_else(pc.greater(pc.list_value_length(extra), 0), extra,
                           pa.scalar(None, extra.type))
        columns.append(extra)
        return finish_batch(columns, self.schema(header, options), problems, lines, options, where)


def _standard_count(options: Mapping) -> int:
    value = get_option(options, "bedColumns", STANDARD_COLUMNS)
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if not MANDATORY_COLUMNS <= count <= STANDARD_COLUMNS:
        raise ConfigError(f"option bedColumns must be 3..12, got {value!r}")
    return count


def _typed_column(fields: TabFields, index: int, spec: pa.Field,
                  problems: RowProblems) -> pa.Array:
    text = fields.column(index)
    if spec.name in _DOT_IS_NULL:
        text = missing_to_null(text)
    if pa.types.is_list(spec.type):
        # UCSC writes blockSizes/blockStarts with a trailing comma: "10,20,".
        lists = pc.split_pattern(pc.utf8_rtrim(text, ","), ",")
        values, bad_rows = typed_list(lists, spec.type.value_type)
    else:
        values, bad = cast_text(text, spec.type)
        bad_rows = bad
    if bad_rows is not None:
        problems.flag(bad_rows, f"column {index + 1} ({spec.name}) is not a valid {spec.type}")
    return values


def _check_interval(start: pa.Array, end: pa.Array, problems: RowProblems) -> None:
    negative = np.asarray(pc.fill_null(pc.less(start, 0), False), dtype=bool)
    problems.flag(negative, "start is negative")
    reversed_ = np.asarray(pc.fill_null(pc.less(end, start), False), dtype=bool)
    problems.flag(reversed_, "end is before start")


BED = BedFormat()
