"""Vectorised field access for tab-separated lines and typed conversion of text values.

:class:`TabFields` splits a batch of lines on tabs once (one Arrow kernel) and serves any
column as a gather from the flattened values, so ragged rows (BED3 beside BED6, a VCF line
missing its samples) are handled without a loop per line: a row without column ``k`` gets
null there and the caller decides whether that is an error.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# VCFv4.3 §1.6.1, GFF3 column rules, BED: a lone '.' is a missing value.
MISSING = "."


class TabFields:
    """The tab-separated fields of each line, flattened, with per-line offsets."""

    def __init__(self, lines: pa.Array, separator: str = "\t"):
        lists = pc.split_pattern(lines, separator)
        self.num_rows = len(lines)
        self.offsets = np.asarray(lists.offsets, dtype=np.int64)
        self.counts = np.diff(self.offsets)
        self.values = lists.values

    def column(self, index: int) -> pa.Array:
        """Field ``index`` of every line; null where a line has no such field."""
        return self.gather(np.zeros(self.num_rows, dtype=np.int64) + index)

    def gather(self, index_in_row: np.ndarray, rows: Optional[np.ndarray] = None) -> pa.Array:
        """Field ``index_in_row[i]`` of line ``rows[i]`` (all lines in order by default)."""
        starts = self.offsets[:-1] if rows is None else self.offsets[rows]
        counts = self.counts if rows is None else self.counts[rows]
        absent = (index_in_row < 0) | (index_in_row >= counts)
        if len(self.values) == 0:
            return pa.nulls(len(absent), self.values.type)
        if not absent.any():  # the usual case: no mask to build
            return self.values.take(pa.array(starts + index_in_row))
        return self.values.take(pa.array(np.where(absent, 0, starts + index_in_row), mask=absent))

    def rest_from(self, index: int) -> pa.Array:
        """Fields ``index..`` of each line as a list (empty when a line has fewer)."""
        starts = np.minimum(self.offsets[:-1] + index, self.offsets[1:])
        lengths = self.offsets[1:] - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = self.values.take(pa.array(_ranges(starts, lengths)))
        return list_array(offsets, values)


def list_array(offsets: np.ndarray, values: pa.Array, mask=None) -> pa.Array:
    """A list array (large_list only when the offsets need 64 bits)."""
    if len(offsets) and offsets[-1] >= 2**31:
        return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values, mask=mask)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=mask)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n``, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(starts)), lengths)
    first_of_row = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return starts[row_of] + (np.arange(total) - first_of_row[row_of])


def missing_to_null(values: pa.Array) -> pa.Array:
    """``values`` with each lone ``.`` replaced by null (no copy when there is none)."""
    missing = pc.equal(values, MISSING)
    if not pc.any(missing).as_py():
        return values
    return pc.if_else(missing, pa.scalar(None, values.type), values)


def cast_text(values: pa.Array, type_: pa.DataType) -> Tuple[pa.Array, Optional[np.ndarray]]:
    """Cast text values to ``type_``; values that do not parse become null.

    Returns the cast array and a bool mask of the values that failed (None when all parsed),
    so the caller can report the rows they belong to.  The fast path is one Arrow cast; only
    when it fails are the distinct values tried one by one to find the culprits.
    """
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return values.cast(type_), None
    try:
        return values.cast(type_), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    bad_values = [v for v in pc.unique(values).to_pylist() if v is not None and not _casts(v, type_)]
    bad = pc.is_in(values, value_set=pa.array(bad_values, values.type))
    bad = pc.fill_null(bad, False)
    cleaned = pc.if_else(bad, pa.scalar(None, values.type), values)
    return cleaned.cast(type_), np.asarray(bad, dtype=bool)


def _casts(value: str, type_: pa.DataType) -> bool:
    try:
        pa.array([value]).cast(type_)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def typed_list(lists: pa.Array, type_: pa.DataType) -> Tuple[pa.Array, Optional[np.ndarray]]:
    """A list<string> array cast element-wise to list<type_>, ``.`` elements as null.

    Returns the list array and the bool mask of *rows* (of ``lists``) holding an element
    that failed to parse (None when all parsed).
    """
    elements = missing_to_null(lists.values)
    cast, bad_elements = cast_text(elements, type_)
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    if lists.offset or (len(offsets) and offsets[0] != 0):
        raise ValueError("sliced list arrays are not supported here")
    result = list_array(offsets, cast, mask=lists.is_null())
    if bad_elements is None:
        return result, None
    row_of_element = np.repeat(np.arange(len(lists)), np.diff(offsets))
    bad_rows = np.zeros(len(lists), dtype=bool)
    bad_rows[row_of_element[bad_elements]] = True
    return result, bad_rows


def scatter(values: pa.Array, rows: np.ndarray, num_rows: int) -> pa.Array:
    """An array of ``num_rows`` with ``values[i]`` at ``rows[i]`` and null elsewhere."""
    if len(values) == 0:
        return pa.nulls(num_rows, values.type)
    if len(rows) == num_rows and (rows == np.arange(num_rows)).all():
        return values  # every row has exactly one value, in order
    index = np.full(num_rows, -1, dtype=np.int64)
    index[rows] = np.arange(len(rows), dtype=np.int64)
    return values.take(pa.array(np.maximum(index, 0), mask=index < 0))


def map_from_entries(owner: np.ndarray, keys: pa.Array, values: pa.Array,
                     num_owners: int) -> pa.MapArray:
    """A map<string,string> per owner from (owner, key, value) entries; null when none."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=num_owners) if len(owner) else np.zeros(num_owners, np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    take = pa.array(order.astype(np.int64))
    return pa.MapArray.from_arrays(pa.array(offsets), keys.take(take).cast(pa.string()),
                                   values.take(take).cast(pa.string()),
                                   mask=pa.array(counts == 0))
