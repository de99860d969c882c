"""Any tabix-indexed TSV into Arrow: columns named by the header line or a user schema.

Names come, in order of preference, from ``option("schema", "chrom STRING, pos INT, ...")``
(a Spark DDL string, or a ``pyarrow.Schema``), ``option("columns", "a,b,c")``, or the last
header line (``#chrom\tpos\t...``, its leading ``#`` dropped).  Columns are strings unless the
schema types them.  The contig and begin columns are the tabix ones (1-based column numbers
``seqColumn``, ``beginColumn``, ``endColumn`` as in the tabix header, defaults 1, 2, none;
the split layer passes the index's values); the begin column is int64 and normalised to
0-based (minus one unless ``zeroBased``, tabix's TBX_UCSC flag), the end column int64 and
unchanged (a 1-based closed end is the 0-based exclusive end).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Mapping, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from .fields import TabFields, cast_text, missing_to_null
from .format import LineSource, as_string_array, bool_option, get_option, with_corrupt_column
from .problems import RowProblems, finish_batch

# Spark SQL type names accepted in a DDL schema string.
DDL_TYPES = {
    "string": pa.string(), "varchar": pa.string(), "char": pa.string(),
    "int": pa.int32(), "integer": pa.int32(), "bigint": pa.int64(), "long": pa.int64(),
    "smallint": pa.int16(), "short": pa.int16(), "tinyint": pa.int8(), "byte": pa.int8(),
    "double": pa.float64(), "float": pa.float32(), "real": pa.float32(),
    "boolean": pa.bool_(), "bool": pa.bool_(),
}
_DDL_COLUMN = re.compile(r"^\s*(?:`([^`]+)`|(\S+))\s+([A-Za-z]+)(?:\s*\(\s*\d+\s*\))?\s*$")


@dataclass
class TsvHeader:
    """Column names and types, and which columns hold the contig, begin and end."""

    schema: pa.Schema
    seq_index: int
    begin_index: int
    end_index: Optional[int]
    zero_based: bool
    lines: List[str] = field(default_factory=list)

    @property
    def contig_column(self) -> str:
        return self.schema.field(self.seq_index).name

    @property
    def start_column(self) -> str:
        return self.schema.field(self.begin_index).name


class TabixTsvFormat:
    """The ``tabix`` format of the :class:`~.format.TextFormat` protocol.

    ``contig_column``/``start_column`` depend on the file: read them from the header
    (``parse_header(...).contig_column``); the class values are tabix's defaults.
    """

    name = "tabix"
    contig_column = "contig"
    start_column = "start"

    def parse_header(self, header_lines: list, options: Mapping) -> TsvHeader:
        schema = _base_schema(header_lines, options)
        seq, begin, end = (_column_option(options, key, default, len(schema)) for key, default in
                           (("seqColumn", 1), ("beginColumn", 2), ("endColumn", 0)))
        if seq is None or begin is None:
            raise ConfigError("options seqColumn and beginColumn must name columns (1-based)")
        for index in (begin, end):
            if index is not None and not pa.types.is_integer(schema.field(index).type):
                schema = schema.set(index, pa.field(schema.field(index).name, pa.int64()))
        return TsvHeader(schema, seq, begin, end, bool_option(options, "zeroBased", False),
                         list(header_lines))

    def schema(self, header: TsvHeader, options: Mapping) -> pa.Schema:
        return with_corrupt_column(header.schema, options)

    def parse(self, lines: pa.Array, header: TsvHeader, options: Mapping,
              where: LineSource) -> pa.RecordBatch:
        lines = as_string_array(lines)
        fields = TabFields(lines)
        problems = RowProblems(len(lines))
        width = len(header.schema)
        problems.flag(fields.counts != width, f"not {width} tab-separated columns")
        columns = []
        for index, spec in enumerate(header.schema):
            text = fields.column(index)
            if not pa.types.is_string(spec.type):
                text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), missing_to_null(text))
            values, bad = cast_text(text, spec.type)
            if bad is not None:
                problems.flag(bad, f"column {index + 1} ({spec.name}) is not {spec.type}")
            columns.append(values)
        if not header.zero_based:
            begin = columns[header.begin_index]
            problems.flag(np.asarray(pc.fill_null(pc.less(begin, 1), False), dtype=bool),
                          "begin is below 1 (1-based coordinates)")
            columns[header.begin_index] = pc.subtract(begin, pa.scalar(1, begin.type))
        return finish_batch(columns, self.schema(header, options), problems, lines, options, where)


def _base_schema(header_lines: list, options: Mapping) -> pa.Schema:
    given = get_option(options, "schema")
    if isinstance(given, pa.Schema):
        return given
    if given:
        return parse_ddl(str(given))
    names = get_option(options, "columns")
    if names:
        return pa.schema([pa.field(n.strip(), pa.string()) for n in str(names).split(",")])
    named = [line for line in header_lines if line.startswith("#")]
    if not named:
        raise ConfigError("a TSV without a '#' header line needs option schema "
                          "(e.g. 'chrom STRING, pos INT, value DOUBLE') or columns ('a,b,c')")
    columns = named[-1].lstrip("#").rstrip("\r").split("\t")
    return pa.schema([pa.field(n, pa.string()) for n in columns])


def parse_ddl(text: str) -> pa.Schema:
    """``"name TYPE, name2 TYPE2"`` (Spark DDL, simple types) as a pyarrow schema."""
    fields = []
    for part in text.split(","):
        match = _DDL_COLUMN.match(part)
        if not match or match.group(3).lower() not in DDL_TYPES:
            raise ConfigError(f"cannot read schema column {part.strip()!r}: expected 'name TYPE' "
                              f"with TYPE one of {sorted(DDL_TYPES)}")
        fields.append(pa.field(match.group(1) or match.group(2), DDL_TYPES[match.group(3).lower()]))
    return pa.schema(fields)


def _column_option(options: Mapping, key: str, default: int, width: int) -> Optional[int]:
    """A 1-based column number option as a 0-based index (0 means none)."""
    value = get_option(options, key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"option {key} must be a column number, got {value!r}") from None
    if number == 0:
        return None
    if not 1 <= number <= width:
        raise ConfigError(f"option {key}={number} but the TSV has {width} columns")
    return number - 1


TABIX = TabixTsvFormat()
