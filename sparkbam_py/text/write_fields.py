"""Arrow columns back into the text of tab-separated lines, vectorised: the writers' toolkit.

Every function turns whole columns into whole string columns with Arrow kernels (one pass
per column, never a loop per row).  Numbers print as the shortest text that reads back to
the same value (Arrow's casts: ``50.0`` -> ``50``, ``0.1`` -> ``0.1``), so a value read by
:mod:`sparkbam_py.text` and written here reads back equal.  Nulls become ``.`` where the
formats mean "missing" by it (VCFv4.3 §1.6.1, GFF3 columns, BED's optional columns).

A tab or a line break inside a value would make a different number of columns or lines,
inventing records: :func:`check_one_field` refuses such a value with a typed error naming
the row and the column.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SparkBamError
from ..kernels import use_compiled
from .fields import MISSING, list_array

_BREAKS = r"[\t\n\r]"
_INT64_MIN = np.iinfo(np.int64).min


class UnwritableRowError(SparkBamError, ValueError):
    """A row that cannot become a line of its format (a null coordinate, a tab in a value,
    a column type the format has no text for); the message names the row and column."""


def as_array(column) -> pa.Array:
    """One contiguous Array from an Array or ChunkedArray."""
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def plain_text(column) -> pa.Array:
    """Any scalar column as strings (null stays null); booleans as ``true``/``false``."""
    column = as_array(column)
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_large_string(column.type) or pa.types.is_dictionary(column.type):
        return column.cast(pa.string())
    if pa.types.is_integer(column.type):
        compiled = _compiled_int_text(column, ",", MISSING)
        if compiled is not None:
            return compiled
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
        return pc.cast(column, pa.string())
    raise UnwritableRowError(f"a column of type {column.type} has no text form in this format")


def text_or_missing(column, missing: str = MISSING) -> pa.Array:
    """``plain_text`` with nulls as ``missing``."""
    return pc.fill_null(plain_text(column), missing)


def check_one_field(text: pa.Array, name: str, extra: str = "") -> None:
    """Refuse a value holding a tab or line break (or any character of ``extra``)."""
    pattern = _BREAKS if not extra else _BREAKS[:-1] + "".join("\\" + c for c in extra) + "]"
    found = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    if pc.any(found).as_py():
        row = int(np.flatnonzero(np.asarray(found, dtype=bool))[0])
        shown = "a tab or line break" + (f" or one of {extra!r}" if extra else "")
        raise UnwritableRowError(f"row {row}: {name} {text[row].as_py()[:80]!r} holds {shown}, "
                                "which would split it into other fields or lines")


def joined_list(column, separator: str, missing_element: str = MISSING) -> pa.Array:
    """Each list's elements as text joined by ``separator`` (null elements as
    ``missing_element``); a null list stays null, an empty list is ``""``."""
    column = as_array(column)
    if pa.types.is_large_list(column.type):
        column = column.cast(pa.list_(column.type.value_type))
    compiled = _compiled_int_text(column, separator, missing_element)
    if compiled is not None:
        return compiled
    flat = column.values
    offsets = np.asarray(column.offsets, dtype=np.int64)
    elements = text_or_missing(flat, missing_element)
    lists = list_array(offsets - offsets[0], elements.slice(int(offsets[0]), int(offsets[-1] - offsets[0])),
                       mask=column.is_null() if column.null_count else None)
    return pc.binary_join(lists, separator)


def compiled_write_kernels():
    """:mod:`.write_kernels`, or None where the Arrow paths are selected (:mod:`..kernels`)."""
    if not use_compiled():
        return None
    from . import write_kernels  # noqa: PLC0415 (imports numba: only on the compiled path)

    return write_kernels


@dataclass(frozen=True)
class IntLists:
    """An integer column, or a column of integer lists, as numbers for a compiled kernel:
    item ``i`` is ``values[offsets[i]:offsets[i + 1]]`` (one number for a plain column);
    ``element_valid`` false: a null number; ``valid`` false: a null item."""

    values: np.ndarray  # int64
    element_valid: np.ndarray
    offsets: np.ndarray  # int64, one more than items
    valid: np.ndarray

    def where_valid(self, valid: np.ndarray) -> "IntLists":
        """The same numbers, items also null where ``valid`` is false."""
        return IntLists(self.values, self.element_valid, self.offsets, self.valid & valid)


def int_lists(column) -> Optional[IntLists]:
    """``column`` (integers or lists of integers) as :class:`IntLists`; None for any other
    type, or where the compiled text could not match Arrow's (uint64, an INT64_MIN)."""
    column = as_array(column)
    listed = pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
    flat = column.values if listed else column
    if not pa.types.is_integer(flat.type) or flat.type == pa.uint64():
        return None
    numbers = np.asarray(pc.fill_null(flat, 0) if flat.null_count else flat, dtype=np.int64)
    if len(numbers) and numbers.min() == _INT64_MIN:
        return None
    offsets = np.asarray(column.offsets, dtype=np.int64) if listed else np.arange(len(column) + 1, dtype=np.int64)
    element_valid = np.asarray(flat.is_valid(), dtype=bool) if flat.null_count else np.ones(len(numbers), bool)
    valid = np.asarray(column.is_valid(), dtype=bool) if column.null_count else np.ones(len(column), bool)
    return IntLists(numbers, element_valid, offsets, valid)


def _compiled_int_text(column: pa.Array, separator: str, missing: str) -> Optional[pa.Array]:
    """An integer (list) column as text, lists joined by ``separator`` (null elements
    ``missing``), as ``cast`` and ``binary_join`` give it; None where the kernels are not
    selected or the Arrow path must answer (see :func:`int_lists`, a long text)."""
    kernels = compiled_write_kernels()
    if kernels is None or len(separator) != 1 or len(missing) != 1:
        return None
    lists = int_lists(column)
    if lists is None:
        return None
    text, text_offsets = kernels.int_lists_text(lists.values, lists.element_valid, lists.offsets, ord(separator),
                                                ord(missing))
    if text_offsets[-1] >= 2**31:
        return None
    text = pa.StringArray.from_buffers(len(lists.offsets) - 1, pa.py_buffer(text_offsets.astype(np.int32)),
                                       pa.py_buffer(text))
    return pc.if_else(column.is_valid(), text, pa.scalar(None, pa.string())) if column.null_count else text


def nonempty_or_null(text: pa.Array) -> pa.Array:
    """``""`` as null (an empty list or map writes as missing)."""
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def map_entries(column, pair: str, separator: str, key_only_when_null: bool = True,
                quote: str = "") -> pa.Array:
    """Each map as ``key<pair>value`` entries joined by ``separator``; a null value gives the
    bare key (a VCF flag); ``quote`` surrounds values (GTF).  Null or empty maps are null."""
    column = as_array(column)
    offsets = np.asarray(column.offsets, dtype=np.int64)
    keys, items = column.keys, plain_text(column.items)
    valued = pc.binary_join_element_wise(keys, pa.scalar(pair + quote), items, pa.scalar(quote), "")
    entries = pc.if_else(pc.is_null(items), keys, valued) if key_only_when_null else pc.fill_null(valued, keys)
    lists = list_array(offsets - offsets[0], entries.slice(int(offsets[0]), int(offsets[-1] - offsets[0])),
                       mask=column.is_null() if column.null_count else None)
    return nonempty_or_null(pc.binary_join(lists, separator))


def join_columns(columns: Sequence[pa.Array], separator: str = "\t") -> pa.Array:
    """Columns of no nulls joined row by row."""
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, separator)


def join_present(columns: Sequence[pa.Array], separator: str) -> pa.Array:
    """Columns joined row by row, a null value skipped with its separator; null where a row
    has no value at all."""
    # A leading "" keeps every row non-null: pyarrow (24) drops the rows whose values are
    # all null from a skipping join instead of giving "" for them.
    joined = pc.binary_join_element_wise(pa.scalar(""), *columns, separator, null_handling="skip")
    return nonempty_or_null(pc.utf8_slice_codeunits(joined, len(separator)))


def lines_buffer(lines: pa.Array) -> tuple:
    """``(bytes of every line and its newline, int64 offsets of each line's start and the end)``."""
    terminated = pc.binary_join_element_wise(lines, pa.scalar(""), "\n")
    if pa.types.is_large_string(terminated.type):
        offset_type = np.int64
    else:
        offset_type = np.int32
    buffers = terminated.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[terminated.offset:terminated.offset + len(terminated) + 1]
    offsets = offsets.astype(np.int64)
    data = memoryview(buffers[2])[int(offsets[0]):int(offsets[-1])] if len(terminated) else memoryview(b"")
    return data, offsets - offsets[0]


def required(batch: pa.RecordBatch, name: str, what: str) -> pa.Array:
    """Column ``name`` of ``batch`` with no null; a typed error naming the first null row."""
    if name not in batch.schema.names:
        raise UnwritableRowError(f"the rows have no {name} column ({what}); columns: {', '.join(batch.schema.names)}")
    column = as_array(batch.column(name))
    if column.null_count:
        row = int(np.flatnonzero(np.asarray(column.is_null(), dtype=bool))[0])
        raise UnwritableRowError(f"row {row}: {name} ({what}) is null")
    return column


def optional(batch: pa.RecordBatch, name: str) -> Optional[pa.Array]:
    """Column ``name`` of ``batch``, or None when the rows lack it."""
    return as_array(batch.column(name)) if name in batch.schema.names else None
