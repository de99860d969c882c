"""The seam between line splitting and per-format parsing.

The split layer (``text/lines.py`` and the Spark data sources) hands a format a batch of
whole data lines; the format turns them into one Arrow row per line, in order.  Every
format implements :class:`TextFormat`; each is the ``parser`` of a format of :mod:`sparkbam_py.formats`.

Options arrive as Spark data source options: a dict of strings whose keys Spark may have
lower-cased, so :func:`get_option` matches keys case-insensitively.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

import numpy as np
import pyarrow as pa

from ..errors import ConfigError, CorruptDataError
from ..pos import Pos

# Spark's parse modes (DataFrameReader ``mode``): FAILFAST raises on the first malformed
# line, PERMISSIVE nulls its fields and keeps the line in ``_corrupt_record``.
FAILFAST = "FAILFAST"
PERMISSIVE = "PERMISSIVE"
CORRUPT_RECORD_COLUMN = "_corrupt_record"  # Spark's default columnNameOfCorruptRecord


class MalformedLineError(CorruptDataError):
    """A data line of a text format that does not parse (too few columns, a bad number...)."""


@dataclass(frozen=True)
class LineSource:
    """Where a batch of lines came from, so errors name the file and the line's position.

    ``positions`` holds one int64 per line: its BGZF virtual offset when ``virtual`` (printed
    ``block:offset``), else its byte offset in an uncompressed file.  Without positions,
    errors name the line's index in the batch.
    """

    path: Optional[str] = None
    positions: Any = None
    virtual: bool = True

    def locate(self, row: int) -> tuple:
        """``(where, text)`` for line ``row``: a :class:`Pos` or None, and words for the message."""
        if self.positions is None:
            return None, f"line {row} of the batch"
        value = int(np.asarray(self.positions, dtype=np.int64)[row])
        if self.virtual:
            return Pos.from_virtual(value), "line"
        return None, f"line at byte {value}"


class TextFormat(Protocol):
    """One line-oriented format: header parsing, the Arrow schema, and batch parsing."""

    name: str
    contig_column: str
    start_column: str

    def parse_header(self, header_lines: list, options: Mapping[str, Any]) -> Any:
        """The format's header object from its header lines (no line terminators)."""

    def schema(self, header: Any, options: Mapping[str, Any]) -> pa.Schema:
        """The exact schema of every batch :meth:`parse` returns for these options."""

    def parse(self, lines: pa.Array, header: Any, options: Mapping[str, Any],
              where: LineSource) -> pa.RecordBatch:
        """One row per data line, same order; raises :class:`MalformedLineError` unless PERMISSIVE."""


def get_option(options: Optional[Mapping[str, Any]], name: str, default: Any = None) -> Any:
    """``options[name]``, matching keys case-insensitively (Spark lower-cases option keys)."""
    if not options:
        return default
    if name in options:
        return options[name]
    lowered = name.lower()
    for key, value in options.items():
        if key.lower() == lowered:
            return value
    return default


def bool_option(options: Optional[Mapping[str, Any]], name: str, default: bool) -> bool:
    """A boolean option given as a bool or the strings ``true``/``false`` (any case)."""
    value = get_option(options, name, None)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"option {name} must be true or false, got {value!r}")


def parse_mode(options: Optional[Mapping[str, Any]]) -> str:
    """FAILFAST (default) or PERMISSIVE; DROPMALFORMED is refused: it would lose lines."""
    mode = str(get_option(options, "mode", FAILFAST)).strip().upper()
    if mode not in (FAILFAST, PERMISSIVE):
        raise ConfigError(f"option mode must be FAILFAST or PERMISSIVE, got {mode!r} "
                          "(DROPMALFORMED is not offered: it would silently lose lines)")
    return mode


def with_corrupt_column(schema: pa.Schema, options: Optional[Mapping[str, Any]]) -> pa.Schema:
    """``schema`` plus the ``_corrupt_record`` string column in PERMISSIVE mode."""
    if parse_mode(options) == PERMISSIVE:
        return schema.append(pa.field(CORRUPT_RECORD_COLUMN, pa.string()))
    return schema


def as_string_array(lines: Any) -> pa.Array:
    """The lines as one (large_)string Array (a ChunkedArray or list is combined)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    elif not isinstance(lines, pa.Array):
        lines = pa.array(lines, type=pa.string())
    if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
        raise ConfigError(f"lines must be a string array, got {lines.type}")
    if lines.null_count:
        raise ConfigError("lines must not be null: every line is text, possibly empty")
    return lines
