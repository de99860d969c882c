"""Malformed lines: collect them while parsing vectorised, then raise or null them.

Parsing steps never raise on bad data: they report which rows failed and why, and keep
going with nulls.  At the end the batch either raises :class:`MalformedLineError` for the
first bad line (FAILFAST) or nulls every field of the bad lines and keeps each whole line
in ``_corrupt_record`` (PERMISSIVE).  So both modes share one code path and one result.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa

from .format import PERMISSIVE, LineSource, MalformedLineError, parse_mode

# Characters of the offending line quoted in an error message.
QUOTED_LINE_CHARS = 120


class RowProblems:
    """The first reason (if any) each row of a batch failed to parse."""

    def __init__(self, num_rows: int):
        self.reason_of_row = np.full(num_rows, -1, dtype=np.int32)
        self.reasons: list = []

    def flag(self, rows, reason: str) -> None:
        """Mark ``rows`` (a bool mask or row indices) as malformed for ``reason``."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        if rows.size == 0:
            return
        rows = rows[self.reason_of_row[rows] < 0]
        if rows.size:
            self.reason_of_row[rows] = len(self.reasons)
            self.reasons.append(reason)

    def flag_elements(self, bad_elements, row_of_element: np.ndarray, reason: str) -> None:
        """Mark the rows owning the ``bad_elements`` mask (one entry per flattened element)."""
        if bad_elements is not None:
            self.flag(np.asarray(row_of_element)[np.asarray(bad_elements, dtype=bool)], reason)

    @property
    def bad_rows(self) -> np.ndarray:
        return self.reason_of_row >= 0

    def error_for(self, row: int, lines: pa.Array, where: LineSource) -> MalformedLineError:
        pos, place = where.locate(row)
        line = lines[row].as_py() or ""
        quoted = line if len(line) <= QUOTED_LINE_CHARS else line[:QUOTED_LINE_CHARS] + "..."
        reason = self.reasons[self.reason_of_row[row]]
        return MalformedLineError(f"{place}: {reason}: {quoted!r}", where.path, pos)


def finish_batch(columns: Sequence[pa.Array], schema: pa.Schema, problems: RowProblems,
                 lines: pa.Array, options: Mapping, where: LineSource) -> pa.RecordBatch:
    """The batch of ``schema`` (which ends with ``_corrupt_record`` in PERMISSIVE mode).

    FAILFAST: raise for the first malformed row.  PERMISSIVE: null every field of each
    malformed row and put the line itself in ``_corrupt_record``.
    """
    bad = problems.bad_rows
    permissive = parse_mode(options) == PERMISSIVE
    if bad.any() and not permissive:
        raise problems.error_for(int(np.argmax(bad)), lines, where)
    columns = list(columns)
    if permissive:
        if bad.any():
            keep = pa.array(np.arange(len(lines), dtype=np.int64), mask=bad)
            columns = [column.take(keep) for column in columns]
        only_bad = pa.array(np.arange(len(lines), dtype=np.int64), mask=~bad)
        columns.append(lines.cast(pa.string()).take(only_bad))
    return pa.RecordBatch.from_arrays([_conform(c, f.type) for c, f in zip(columns, schema)],
                                      schema=schema)


def _conform(column: pa.Array, type_: pa.DataType) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column if column.type == type_ else column.cast(type_)
