"""The ``tags`` column: located tags rendered as a map of tag -> ``TYPE:VALUE`` SAM text.

SAMv1 §1.5 gives the text form: ``A`` characters, ``i`` for every integer width (c C s S
i I), ``f`` floats, ``Z`` strings, ``H`` hex strings, and ``B:<subtype>,v1,v2,...`` arrays.

Each value's text is a *prefix* (``i:``, ``Z:``, ``B:s``... one of a dozen constants) and a
*body*.  Bodies are built per kind, all entries of a kind at once: string bodies are byte
ranges of the tag buffer, numbers are rendered by :mod:`numtext`, and an array's body is the
run of its elements' ``,value`` texts.  One Arrow ``take`` then lays prefix, body, prefix,
body... into the final buffer in entry order.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa

from .littleendian import FLOAT_TYPE, INTEGER_TYPES, read_float32, read_integers
from .numtext import format_floats, format_integers
from .ragged import Ragged, pick_ragged, string_array, take_byte_ranges
from .schema import COLUMNS
from .tags import ARRAY_ELEMENT_BYTES, ARRAY_HEADER_BYTES, TYPE_ARRAY, TYPE_CHAR, TYPE_HEX, TYPE_STRING, TagEntries

_TAGS_TYPE = COLUMNS["tags"][0]
_SUBTYPES = b"cCsSiIf"
_COMMA = ord(",")


def _prefix_table():
    """The prefix texts, and for each (is_array, type-or-subtype byte) the prefix to use."""
    texts = [b"A:", b"i:", b"f:", b"Z:", b"H:"] + [b"B:" + bytes([s]) for s in _SUBTYPES]
    which = np.full((2, 256), -1, dtype=np.int64)
    which[0, [TYPE_CHAR, FLOAT_TYPE, TYPE_STRING, TYPE_HEX]] = [0, 2, 3, 4]
    which[0, list(INTEGER_TYPES)] = 1
    which[1, list(_SUBTYPES)] = 5 + np.arange(len(_SUBTYPES))
    offsets = np.cumsum([0] + [len(t) for t in texts]).astype(np.int64)
    return Ragged(np.frombuffer(b"".join(texts), dtype=np.uint8), offsets), which


_PREFIXES, _PREFIX_OF = _prefix_table()


def build_tags_column(entries: TagEntries, n_records: int, dropped: Optional[np.ndarray] = None) -> pa.MapArray:
    """One map per record from its located tags, leaving out the entry indexes in ``dropped``."""
    kept = np.arange(len(entries.start))
    if dropped is not None and len(dropped):
        kept = np.setdiff1d(kept, dropped)
    counts = np.bincount(entries.records[entries.record[kept]], minlength=n_records)
    map_offsets = np.zeros(n_records + 1, dtype=np.int32)
    np.cumsum(counts, out=map_offsets[1:])
    keys = _key_column(entries, kept)
    values = string_array(_value_texts(entries, kept))
    return pa.MapArray.from_arrays(pa.array(map_offsets), keys, values, type=_TAGS_TYPE)


def _key_column(entries: TagEntries, kept: np.ndarray) -> pa.StringArray:
    first = entries.start[kept]
    pairs = np.stack([entries.buffer[first], entries.buffer[first + 1]], axis=1).reshape(-1)
    return string_array(Ragged(pairs, 2 * np.arange(len(kept) + 1, dtype=np.int64)))


def _value_texts(entries: TagEntries, kept: np.ndarray) -> Ragged:
    value_type = entries.type[kept]
    value_start = entries.value_start[kept]
    is_array = value_type == TYPE_ARRAY
    subtype = entries.buffer[np.where(is_array, value_start, 0)]
    prefix = _PREFIX_OF[is_array.astype(np.int64), np.where(is_array, subtype, value_type)]

    kinds = [
        (np.isin(value_type, [TYPE_CHAR, TYPE_STRING, TYPE_HEX]), _string_bodies),
        (np.isin(value_type, list(INTEGER_TYPES)), _integer_bodies),
        (value_type == FLOAT_TYPE, _float_bodies),
        (is_array, _array_bodies),
    ]
    parts = [_PREFIXES]
    body_part = np.zeros(len(kept), dtype=np.int64)
    body_item = np.zeros(len(kept), dtype=np.int64)
    for part, (chosen, render) in enumerate(kinds, start=1):
        chosen_entries = kept[chosen]
        parts.append(render(entries, chosen_entries))
        body_part[chosen] = part
        body_item[chosen] = np.arange(len(chosen_entries))
    # Two picks per entry: its prefix, then its body.
    pick_part = np.stack([np.zeros(len(kept), dtype=np.int64), body_part], axis=1).reshape(-1)
    pick_item = np.stack([prefix, body_item], axis=1).reshape(-1)
    pieces = pick_ragged(parts, pick_part, pick_item)
    return Ragged(pieces.values, pieces.offsets[0::2])


def _string_bodies(entries: TagEntries, chosen: np.ndarray) -> Ragged:
    """A, Z and H values are printed as stored (without the NUL)."""
    is_char = entries.type[chosen] == TYPE_CHAR
    lengths = np.where(is_char, 1, entries.size[chosen] - 1)
    return take_byte_ranges(entries.buffer, entries.value_start[chosen], lengths)


def _integer_bodies(entries: TagEntries, chosen: np.ndarray) -> Ragged:
    values = read_integers(entries.buffer, entries.value_start[chosen], entries.type[chosen])
    return format_integers(values)


def _float_bodies(entries: TagEntries, chosen: np.ndarray) -> Ragged:
    return format_floats(read_float32(entries.buffer, entries.value_start[chosen]))


def _array_bodies(entries: TagEntries, chosen: np.ndarray) -> Ragged:
    """Each array's ``,v1,v2...`` (empty for an empty array)."""
    header = entries.value_start[chosen]
    subtype = entries.buffer[header]
    count = entries.array_counts(chosen)
    element_offsets = np.zeros(len(chosen) + 1, dtype=np.int64)
    np.cumsum(count, out=element_offsets[1:])
    # Element j of array a sits at header[a] + 5 + j * (its element size).
    owner = np.repeat(np.arange(len(chosen)), count)
    rank = np.arange(element_offsets[-1]) - element_offsets[owner]
    element_type = subtype[owner]
    position = header[owner] + ARRAY_HEADER_BYTES + rank * ARRAY_ELEMENT_BYTES[element_type]
    texts = _element_texts(entries.buffer, position, element_type)
    return Ragged(texts.values, texts.offsets[element_offsets])


def _element_texts(buffer: np.ndarray, position: np.ndarray, element_type: np.ndarray) -> Ragged:
    """``,value`` for each array element, in element order."""
    is_float = element_type == FLOAT_TYPE
    integers = format_integers(read_integers(buffer, position[~is_float], element_type[~is_float]), before=1)
    integers.values[integers.offsets[:-1]] = _COMMA
    if not is_float.any():
        return integers
    floats = format_floats(read_float32(buffer, position[is_float]), before=b",")
    part = is_float.astype(np.int64)
    item = np.where(is_float, np.cumsum(is_float) - 1, np.cumsum(~is_float) - 1)
    return pick_ragged([integers, floats], part, item)
