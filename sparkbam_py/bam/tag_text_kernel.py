"""The ``tags`` column written by one compiled pass over the located tags (see :mod:`.kernels`).

The same ``TYPE:VALUE`` text as :mod:`.tag_text` (SAMv1 §1.5), written straight into the
Arrow buffers of the map's keys and values.  Every value is seen as a run of elements
after a prefix: an integer is ``i:`` and one element, a float ``f:`` and one element, an
array ``B:<subtype>`` and its elements each after a comma, and A/Z/H values are copied.

Floats must print exactly as C's ``%g`` (as samtools does), which compiled code cannot
reproduce safely; so the distinct float values of the batch are formatted first by
:func:`.numtext.distinct_float_texts` (the formatting the numpy path uses) and the kernel
copies each value's text from that table, found by binary search on its bit pattern.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .arrow_build import primitive_array
from .littleendian import FLOAT_TYPE, INTEGER_TYPES, at_every_byte
from .numtext import distinct_float_texts
from .prefault import populated_empty
from .ragged import Ragged, string_array
from .tags import ARRAY_ELEMENT_BYTES, ARRAY_HEADER_BYTES, TYPE_ARRAY, TagEntries

_UINT32 = np.dtype("<u4")
_NO_FLOATS = (np.zeros(0, dtype=np.uint32), Ragged(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)))
# The longest text of one integer of each type: "-128", "255", "-32768", "65535", ...
_TEXT_BOUND = np.zeros(256, dtype=np.int64)
for _code, (_width, _signed) in INTEGER_TYPES.items():
    _TEXT_BOUND[_code] = len(str(-(1 << (8 * _width - 1)) if _signed else (1 << (8 * _width)) - 1))


def compiled_tags_column(kernel, entries: TagEntries, map_offsets: np.ndarray, kept: np.ndarray,
                         map_type: pa.DataType) -> pa.MapArray:
    """The map column of the ``kept`` entries (bool per entry), by the compiled ``kernel``."""
    float_bits, float_text = _float_table(entries, kept)
    n_kept = int(np.count_nonzero(kept))
    keys = populated_empty(2 * n_kept)
    value_offsets = np.empty(n_kept + 1, dtype=np.int64)
    text_bound = _TEXT_BOUND
    if len(float_bits):
        text_bound = _TEXT_BOUND.copy()
        text_bound[FLOAT_TYPE] = int(np.diff(float_text.offsets).max())
    text = kernel(entries.buffer, entries.start, entries.type, entries.size, kept, ARRAY_ELEMENT_BYTES, text_bound,
                  float_bits, float_text.offsets, float_text.values, keys, value_offsets)
    key_column = string_array(Ragged(keys, 2 * np.arange(n_kept + 1, dtype=np.int64)))
    value_column = string_array(Ragged(text, value_offsets))
    return pa.MapArray.from_arrays(primitive_array(map_offsets, np.int32), key_column, value_column, type=map_type)


def _float_table(entries: TagEntries, kept: np.ndarray):
    """The distinct bit patterns (sorted) of every float the kept entries hold, and their texts."""
    may_hold_floats = (kept & ((entries.type == FLOAT_TYPE) | (entries.type == TYPE_ARRAY))).any()
    if not may_hold_floats:  # the usual case
        return _NO_FLOATS
    buffer = entries.buffer
    scalars = entries.value_start_of(np.flatnonzero(kept & (entries.type == FLOAT_TYPE)))
    arrays = np.flatnonzero(kept & (entries.type == TYPE_ARRAY))
    arrays = arrays[buffer[entries.value_start_of(arrays)] == FLOAT_TYPE]
    counts = entries.array_counts(arrays)
    # Element k of a float array starts 4 * k bytes after its header.
    first = np.repeat(entries.value_start_of(arrays) + ARRAY_HEADER_BYTES, counts)
    rank = np.arange(len(first), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    positions = np.concatenate([scalars, first + 4 * rank])
    if not len(positions):
        return _NO_FLOATS
    bits = np.unique(at_every_byte(buffer, _UINT32)[positions]).astype(np.uint32)
    return bits, distinct_float_texts(bits)


def tag_text_kernel(data, start, value_type, size, kept, element_bytes, text_bound, float_bits, float_offsets,
                    float_text, keys, value_offsets):
    """Keys and ``TYPE:VALUE`` texts of the kept entries; returns the text buffer.

    ``text_bound[t]``: the longest text of one element of type t (its sign included).
    """
    room = 0
    for entry in range(len(start)):
        if kept[entry]:
            kind = value_type[entry]
            if kind == 66:  # 'B': "B:<subtype>" and ",element" per element
                element_type = data[start[entry] + 3]
                count = (size[entry] - 5) // element_bytes[element_type]
                room += 3 + count * (1 + text_bound[element_type])
            elif kind == 65 or kind == 90 or kind == 72:
                room += 2 + size[entry]
            else:
                room += 2 + text_bound[kind]
    text = np.empty(room, dtype=np.uint8)
    at = 0
    slot = 0
    for entry in range(len(start)):
        if not kept[entry]:
            continue
        tag = start[entry]
        kind = value_type[entry]
        value = tag + 3
        keys[2 * slot] = data[tag]
        keys[2 * slot + 1] = data[tag + 1]
        value_offsets[slot] = at
        slot += 1
        if kind == 65 or kind == 90 or kind == 72:  # 'A', 'Z', 'H': the value itself
            length = 1 if kind == 65 else size[entry] - 1  # Z/H sizes count the NUL
            text[at] = kind
            text[at + 1] = 58  # ':'
            for k in range(length):
                text[at + 2 + k] = data[value + k]
            at += 2 + length
            continue
        if kind == 67 or kind == 99:  # 'C', 'c': the usual small integers (NM, AS, XS...), directly
            number = np.int64(data[value])
            if kind == 99 and number >= 128:
                number -= 256
            text[at] = 105  # 'i'
            text[at + 1] = 58
            at += 2
            if number < 0:
                text[at] = 45  # '-'
                at += 1
                number = -number
            if number >= 100:
                text[at] = 48 + number // 100
                at += 1
            if number >= 10:
                text[at] = 48 + (number // 10) % 10
                at += 1
            text[at] = 48 + number % 10
            at += 1
            continue
        # A number is one element after "i:" or "f:"; an array is "B:<subtype>" then
        # ",element" for each of its elements.
        if kind == 66:  # 'B'
            element_type = data[value]
            count = (np.int64(data[value + 1]) | (np.int64(data[value + 2]) << 8)
                     | (np.int64(data[value + 3]) << 16) | (np.int64(data[value + 4]) << 24))
            position = value + 5
            text[at] = 66
            text[at + 1] = 58
            text[at + 2] = element_type
            at += 3
            separator = True
        else:
            element_type = kind
            count = 1
            position = value
            text[at] = 102 if kind == 102 else 105  # 'f:' or 'i:' (every integer width)
            text[at + 1] = 58
            at += 2
            separator = False
        width = element_bytes[element_type]
        for _ in range(count):
            if separator:
                text[at] = 44  # ','
                at += 1
            b0 = np.int64(data[position])
            if width == 1:
                number = b0 - 256 if element_type == 99 and b0 >= 128 else b0  # 'c' signed
            elif width == 2:
                number = b0 | (np.int64(data[position + 1]) << 8)
                if element_type == 115 and number >= 32768:  # 's' signed
                    number -= 65536
            else:
                number = (b0 | (np.int64(data[position + 1]) << 8) | (np.int64(data[position + 2]) << 16)
                          | (np.int64(data[position + 3]) << 24))
                if element_type == 105 and number >= 2147483648:  # 'i' signed
                    number -= 4294967296
            position += width
            if element_type == 102:  # 'f': copy its text from the table
                found = np.searchsorted(float_bits, np.uint32(number))
                first = float_offsets[found]
                length = float_offsets[found + 1] - first
                for k in range(length):
                    text[at + k] = float_text[first + k]
                at += length
                continue
            if number < 0:
                text[at] = 45  # '-'
                at += 1
            # Unsigned arithmetic: division by the constant 10 compiles to a multiplication.
            magnitude = np.uint64(-number if number < 0 else number)
            digits = 1
            bound = np.uint64(10)
            while magnitude >= bound:
                bound *= np.uint64(10)
                digits += 1
            for place in range(digits):
                quotient = magnitude // np.uint64(10)
                text[at + digits - 1 - place] = np.uint8(48 + (magnitude - quotient * np.uint64(10)))  # '0' + digit
                magnitude = quotient
            at += digits
    value_offsets[slot] = at
    return text[:at]
