"""The ``tags`` column: located tags rendered as a map of tag -> ``TYPE:VALUE`` SAM text.

SAMv1 §1.5 gives the text form: ``A`` characters, ``i`` for every integer width (c C s S
i I), ``f`` floats, ``Z`` strings, ``H`` hex strings, and ``B:<subtype>,v1,v2,...`` arrays.

Values are rendered per kind, all entries of a kind at once, into one source buffer, and a
single Arrow ``take`` copies each entry's text into place, in record order:

* A, Z and H values are their own text: the tag bytes ``k1 k2 T value`` are turned into
  ``T:value`` in place, in a copy of the tag buffer (the keys are read from the original).
* integers and floats are rendered by :mod:`numtext`, with their ``i:``/``f:`` prefix;
* arrays are assembled from their ``B:<subtype>`` header and their elements' ``,value`` texts.

That is the numpy path; the compiled path (:mod:`.tag_text_kernel`) writes the same text in
one pass over the entries.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa

from ..kernels import compiled
from .arrow_build import primitive_array
from .littleendian import FLOAT_TYPE, INTEGER_TYPES, at_every_byte, read_float32, read_integers, read_unsigned
from .numtext import format_floats, format_integers, integer_rows
from .ragged import Ragged, pick_ragged, string_array, take_byte_ranges
from .schema import COLUMNS
from .tag_text_kernel import compiled_tags_column, tag_text_kernel
from .tags import (
    ARRAY_ELEMENT_BYTES,
    ARRAY_HEADER_BYTES,
    TAG_HEADER_BYTES,
    TYPE_ARRAY,
    TYPE_CHAR,
    TYPE_HEX,
    TYPE_STRING,
    TagEntries,
)

_TAGS_TYPE = COLUMNS["tags"][0]
_COLON = ord(":")
_STRING, _INTEGER, _FLOAT, _ARRAY = range(4)
_KIND_OF_TYPE = np.full(256, -1, dtype=np.int64)
_KIND_OF_TYPE[[TYPE_CHAR, TYPE_STRING, TYPE_HEX]] = _STRING
_KIND_OF_TYPE[list(INTEGER_TYPES)] = _INTEGER
_KIND_OF_TYPE[[FLOAT_TYPE, TYPE_ARRAY]] = [_FLOAT, _ARRAY]


def build_tags_column(entries: TagEntries, n_records: int, dropped: Optional[np.ndarray] = None) -> pa.MapArray:
    """One map per record of the batch (all walked) from its tags, without the entries ``dropped``."""
    assert len(entries.records) == n_records, "the tags column needs every record walked"
    start, value_type, size = entries.start, entries.type, entries.size
    counts = np.diff(entries.entry_offsets)
    kept = np.ones(len(entries), dtype=bool)
    if dropped is not None and len(dropped):
        kept[dropped] = False
        counts = counts - np.bincount(entries.walked_record_of(dropped), minlength=n_records)
    map_offsets = np.zeros(n_records + 1, dtype=np.int32)
    np.cumsum(counts, out=map_offsets[1:])
    kernel = compiled(tag_text_kernel)
    if kernel is not None:
        return compiled_tags_column(kernel, entries, map_offsets, kept, _TAGS_TYPE)
    if dropped is not None and len(dropped):
        start, value_type, size = start[kept], value_type[kept], size[kept]
    # The numpy steps read many scattered values: from a compact copy of the tags they stay in
    # cache, and that copy is what the string texts are made in place in.
    compact = take_byte_ranges(entries.buffer, start, TAG_HEADER_BYTES + size)
    buffer, start = compact.values, compact.offsets[:-1]
    keys = _key_column(buffer, start)
    values = string_array(_value_texts(buffer, start, value_type, size))
    return pa.MapArray.from_arrays(primitive_array(map_offsets, np.int32), keys, values, type=_TAGS_TYPE)


def _key_column(buffer: np.ndarray, start: np.ndarray) -> pa.StringArray:
    # Both characters at once, read as one uint16.
    pairs = at_every_byte(buffer, np.dtype("<u2"))[start].view(np.uint8)
    return string_array(Ragged(pairs, 2 * np.arange(len(start) + 1, dtype=np.int64)))


def _value_texts(buffer: np.ndarray, start: np.ndarray, value_type: np.ndarray, size: np.ndarray) -> Ragged:
    """Each entry's ``TYPE:VALUE`` text, in entry order."""
    kind = _KIND_OF_TYPE[value_type]
    value_start = start + TAG_HEADER_BYTES
    strings, integers, floats, arrays = (np.flatnonzero(kind == k) for k in range(4))
    integer_text = integer_rows(read_integers(buffer, value_start[integers], value_type[integers]), prefix=b"i:")
    float_text = format_floats(read_float32(buffer, value_start[floats]), prefix=b"f:")
    array_text = _array_texts(buffer, value_start[arrays])

    # One source buffer: the tag bytes (string values become their text in place), then the
    # rendered numbers.  Its pieces are listed kind after kind, each kind in entry order.
    source = np.concatenate([buffer, integer_text.rows.reshape(-1), float_text.values, array_text.values])
    string_start, string_length = _strings_in_place(source, start[strings], value_type[strings], size[strings])
    integer_base = len(buffer)
    float_base = integer_base + integer_text.rows.size
    array_base = float_base + len(float_text.values)
    piece_start = np.concatenate([
        string_start,
        integer_base + integer_text.starts,
        float_base + float_text.offsets[:-1],
        array_base + array_text.offsets[:-1],
    ])
    piece_length = np.concatenate([
        string_length, integer_text.lengths, np.diff(float_text.offsets), np.diff(array_text.offsets)
    ])
    piece_of_entry = np.empty(len(start), dtype=np.int64)
    first_piece = 0
    for chosen in (strings, integers, floats, arrays):
        piece_of_entry[chosen] = first_piece + np.arange(len(chosen))
        first_piece += len(chosen)
    return take_byte_ranges(source, piece_start, piece_length, order=piece_of_entry)


def _strings_in_place(source: np.ndarray, start: np.ndarray, value_type: np.ndarray, size: np.ndarray):
    """Turn the A/Z/H tags ``k1 k2 T value`` at ``start`` into ``T:value``; where each text lies.

    The type letter moves one byte left, over the key's second character, and a colon takes
    its place.  'A' holds one character; Z and H end with a NUL that the text leaves out.
    """
    source[start + 1] = value_type
    source[start + 2] = _COLON
    value_length = np.where(value_type == TYPE_CHAR, 1, size - 1)
    return start + 1, value_length + 2


def _array_texts(buffer: np.ndarray, value_start: np.ndarray) -> Ragged:
    """``B:<subtype>,v1,v2,...`` for each 'B' value (``B:c`` when empty)."""
    subtype = buffer[value_start]
    count = read_unsigned(buffer, value_start + 1, 4)
    element_offsets = np.zeros(len(value_start) + 1, dtype=np.int64)
    np.cumsum(count, out=element_offsets[1:])
    # Element e, the rank-th of array `owner`, sits at value_start + 5 + rank * element size.
    owner = np.repeat(np.arange(len(value_start)), count)
    rank = np.arange(element_offsets[-1]) - element_offsets[owner]
    element_type = subtype[owner]
    position = value_start[owner] + ARRAY_HEADER_BYTES + rank * ARRAY_ELEMENT_BYTES[element_type]
    is_float = element_type == FLOAT_TYPE
    integer_text = format_integers(read_integers(buffer, position[~is_float], element_type[~is_float]), b",")
    float_text = format_floats(read_float32(buffer, position[is_float]), b",")
    headers = np.empty((len(value_start), 3), dtype=np.uint8)
    headers[:, 0], headers[:, 1], headers[:, 2] = ord("B"), _COLON, subtype
    header_text = Ragged(headers.reshape(-1), 3 * np.arange(len(value_start) + 1, dtype=np.int64))

    # Pieces in order: header 0, its elements, header 1, its elements...
    header_slot = element_offsets[:-1] + np.arange(len(value_start))
    element_slot = np.arange(len(owner)) + owner + 1
    part = np.zeros(len(owner) + len(value_start), dtype=np.int64)
    item = np.zeros_like(part)
    item[header_slot] = np.arange(len(value_start))
    part[element_slot] = np.where(is_float, 2, 1)
    item[element_slot] = np.where(is_float, np.cumsum(is_float), np.cumsum(~is_float)) - 1
    pieces = pick_ragged([header_text, integer_text, float_text], part, item)
    array_bounds = np.append(header_slot, len(part))
    return Ragged(pieces.values, pieces.offsets[array_bounds])
