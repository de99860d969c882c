"""Finding the auxiliary fields (tags) of many records at once (SAMv1 §4.2.4).

Each tag is ``tag[2] val_type value``, and the value's size depends on its type, so the
k-th tag of a record can only be found after the first k-1.  The compiled kernel simply
walks the records one after the other, in place in the decoded data.

The numpy path instead walks *round by round*: round k reads the k-th tag of every record
that still has one, as a handful of vectorised operations, so the number of rounds is the
largest tag count in the batch (typically under twenty), whatever the number of records.
It walks copies of the tag regions laid back to back, which makes locating the NUL ending
each Z/H string a single ``searchsorted`` over the few zero bytes of that copy, and then
translates the positions back into the data: both paths give the same entries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .littleendian import FLOAT_TYPE, INTEGER_TYPES, read_unsigned
from .ragged import take_byte_ranges
from ..kernels import compiled
from .spans import MalformedRecord, require

# SAMv1 §4.2.4: two tag characters, then one value-type character, then the value.
TAG_HEADER_BYTES = 3
# A 'B' array value: subtype character, then uint32 element count, then the elements.
ARRAY_HEADER_BYTES = 5
TYPE_CHAR = ord("A")
TYPE_STRING = ord("Z")
TYPE_HEX = ord("H")
TYPE_ARRAY = ord("B")


def _size_table(sizes: dict) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for code, size in sizes.items():
        table[code] = size
    return table


# Bytes of each fixed-size value type (0: not a fixed-size type).
_ELEMENT_BYTES = {code: width for code, (width, _) in INTEGER_TYPES.items()}
_ELEMENT_BYTES[FLOAT_TYPE] = 4
FIXED_VALUE_BYTES = _size_table({**_ELEMENT_BYTES, TYPE_CHAR: 1})
# Bytes of each 'B' array element subtype (0: not a valid subtype).
ARRAY_ELEMENT_BYTES = _size_table(_ELEMENT_BYTES)


@dataclass(frozen=True)
class TagEntries:
    """Every tag of a set of records, in record order then file order.

    Positions index ``buffer``: the decoded data itself (the tags are found in place).
    """

    buffer: np.ndarray  # uint8
    records: np.ndarray  # batch index of each walked record
    entry_offsets: np.ndarray  # walked record i's entries are entry_offsets[i]:...[i+1]
    start: np.ndarray  # per entry: position of the tag's first character
    type: np.ndarray  # per entry: value type byte
    size: np.ndarray  # per entry: value bytes (Z/H with their NUL, B with its 5-byte header)

    def __len__(self) -> int:
        return len(self.start)

    @property
    def value_start(self) -> np.ndarray:
        return self.start + TAG_HEADER_BYTES

    def value_start_of(self, entries: np.ndarray) -> np.ndarray:
        """Where the values of the given entries start (cheaper than indexing ``value_start``)."""
        return self.start[entries] + TAG_HEADER_BYTES

    def walked_record_of(self, entries: np.ndarray) -> np.ndarray:
        """For the given entry indexes, the index of their walked record."""
        return np.searchsorted(self.entry_offsets, entries, side="right") - 1

    def keys_equal(self, key: bytes, entries: Optional[np.ndarray] = None) -> np.ndarray:
        """Per entry (or per entry of ``entries``): is its tag ``key`` (two characters)?"""
        start = self.start if entries is None else self.start[entries]
        return (self.buffer[start] == key[0]) & (self.buffer[start + 1] == key[1])

    def entries_of(self, walked: np.ndarray) -> np.ndarray:
        """The indexes of every entry of the given walked records, in order."""
        first, stop = self.entry_offsets[walked], self.entry_offsets[walked + 1]
        counts = stop - first
        # Entry k of the result is first[r] + its rank among record r's entries.
        bases = np.repeat(first - np.cumsum(counts) + counts, counts)
        return bases + np.arange(int(counts.sum()), dtype=np.int64)

    def array_counts(self, entries: np.ndarray) -> np.ndarray:
        """The element counts of the given 'B' entries."""
        return read_unsigned(self.buffer, self.value_start_of(entries) + 1, 4)


def locate_tags(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, records: np.ndarray) -> TagEntries:
    """Locate the tags in ``data[starts[i]:ends[i]]`` for each record ``records[i]``."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    kernel = compiled(tag_walk_kernel)
    if kernel is None:
        return _locate_by_rounds(data, starts, ends, records)
    # Every tag takes at least 4 bytes (header and a 1-byte value), but the walk may record one
    # truncated tag before it stops: room for all.
    room = int((ends - starts).sum()) // (TAG_HEADER_BYTES + 1) + 1
    start = np.empty(room, dtype=np.int64)
    value_type = np.empty(room, dtype=np.uint8)
    size = np.empty(room, dtype=np.int64)
    entry_offsets = np.empty(len(starts) + 1, dtype=np.int64)
    found, bad_region, problem = kernel(data, starts, ends, FIXED_VALUE_BYTES, ARRAY_ELEMENT_BYTES,
                                        start, value_type, size, entry_offsets)
    if problem:
        raise MalformedRecord(_PROBLEMS[problem], int(records[bad_region]))
    return TagEntries(data, records, entry_offsets, start[:found], value_type[:found], size[:found])


def _locate_by_rounds(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, records: np.ndarray) -> TagEntries:
    """The numpy path: walk copies of the regions, then translate positions back into ``data``."""
    regions = take_byte_ranges(data, starts, ends - starts)
    buffer = regions.values
    start = _tag_starts_by_rounds(buffer, regions.offsets, records)
    # A tag ends where the next one (or the last region) starts.
    size = np.diff(start, append=len(buffer)) - TAG_HEADER_BYTES
    entry_offsets = np.searchsorted(start, regions.offsets)
    walked = np.repeat(np.arange(len(starts)), np.diff(entry_offsets))
    in_data = start + (starts - regions.offsets[:-1])[walked]
    return TagEntries(data, records, entry_offsets, in_data, buffer[start + 2], size)


# The kernel's problem codes and the messages both paths give for them.
_PROBLEMS = {
    1: "tag header runs past the end of the record",
    2: "tag value runs past the end of the record",
    3: "Z/H tag value lacks its NUL",
    4: "B tag header truncated",
    5: "B tag with an unknown element subtype",
    6: "tag with an unknown value type",
}


def tag_walk_kernel(data, region_starts, region_ends, fixed_bytes, element_bytes, starts, types, sizes,
                    entry_offsets):
    """Every region's tags, one record after the other (numba-compiled; see :mod:`.kernels`).

    Fills ``starts``, ``types`` and ``sizes`` (value bytes) per tag and ``entry_offsets`` per region;
    returns ``(tags, region, problem)``: ``problem`` is a :data:`_PROBLEMS` code (0: none)
    for the first bad ``region``.
    """
    found = 0
    for region in range(len(region_starts)):
        entry_offsets[region] = found
        at = region_starts[region]
        limit = region_ends[region]
        while at < limit:
            if at + 3 > limit:
                return found, region, 1
            value = at + 3
            value_type = data[value - 1]
            size = fixed_bytes[value_type]
            if size == 0:
                if value_type == 90 or value_type == 72:  # 'Z', 'H': up to and including the NUL
                    nul = value
                    while nul < limit and data[nul] != 0:
                        nul += 1
                    if nul >= limit:
                        return found, region, 3
                    size = nul - value + 1
                elif value_type == 66:  # 'B': subtype, uint32 count, elements
                    if value + 5 > limit:
                        return found, region, 4
                    width = element_bytes[data[value]]
                    if width == 0:
                        return found, region, 5
                    count = (np.int64(data[value + 1]) | (np.int64(data[value + 2]) << 8)
                             | (np.int64(data[value + 3]) << 16) | (np.int64(data[value + 4]) << 24))
                    size = 5 + width * count
                else:
                    return found, region, 6
            starts[found] = at
            types[found] = value_type
            sizes[found] = size
            found += 1
            at = value + size
            if at > limit:
                return found, region, 2
    entry_offsets[len(region_starts)] = found
    return found, 0, 0


def _tag_starts_by_rounds(buffer: np.ndarray, region_offsets: np.ndarray, records: np.ndarray) -> np.ndarray:
    """The pure-numpy tag walk: round k finds the k-th tag of every record that has one."""
    nul_positions = np.flatnonzero(buffer == 0)
    # Each round marks where the tags it found start.  The regions lie back to back and the
    # tags tile them, so the marks in buffer order are every tag in record order.
    is_tag_start = np.zeros(len(buffer), dtype=bool)
    # The records still walking: their index, next tag position and region end.
    walking = np.flatnonzero(region_offsets[:-1] < region_offsets[1:])
    at = region_offsets[:-1][walking]
    limit = region_offsets[1:][walking]
    while walking.size:
        _check(at + TAG_HEADER_BYTES <= limit, records, walking, _PROBLEMS[1])
        is_tag_start[at] = True
        size = _value_sizes(buffer, nul_positions, at + TAG_HEADER_BYTES, limit, records, walking)
        following = at + TAG_HEADER_BYTES + size
        _check(following <= limit, records, walking, _PROBLEMS[2])
        more = following < limit
        if not more.all():
            walking, following, limit = walking[more], following[more], limit[more]
        at = following
    return np.flatnonzero(is_tag_start)


def _check(ok: np.ndarray, records: np.ndarray, walking: np.ndarray, message: str) -> None:
    """Report the first walking record where ``ok`` fails (its batch index found only then)."""
    if not ok.all():
        require(ok, records[walking], message)


def _value_sizes(buffer, nul_positions, value_start, limit, records, walking) -> np.ndarray:
    """Bytes taken by each value, from its type (and its NUL or element count)."""
    value_type = buffer[value_start - 1]
    size = FIXED_VALUE_BYTES[value_type]
    # Only Z, H, B and invalid types have no fixed size.
    special = np.flatnonzero(size == 0)
    if special.size == 0:
        return size
    special_type = value_type[special]
    strings = special[(special_type == TYPE_STRING) | (special_type == TYPE_HEX)]
    if strings.size:
        begin = value_start[strings]
        # The first NUL at or after the value's start ends it (SAMv1 §4.2.4: NUL-terminated).
        found = np.minimum(np.searchsorted(nul_positions, begin), len(nul_positions) - 1)
        nul = nul_positions[found] if len(nul_positions) else begin - 1
        ok = (nul >= begin) & (nul < limit[strings])
        _check(ok, records, walking[strings], _PROBLEMS[3])
        size[strings] = nul - begin + 1
    arrays = special[special_type == TYPE_ARRAY]
    if arrays.size:
        begin = value_start[arrays]
        _check(begin + ARRAY_HEADER_BYTES <= limit[arrays], records, walking[arrays], _PROBLEMS[4])
        element_bytes = ARRAY_ELEMENT_BYTES[buffer[begin]]
        _check(element_bytes > 0, records, walking[arrays], _PROBLEMS[5])
        size[arrays] = ARRAY_HEADER_BYTES + element_bytes * read_unsigned(buffer, begin + 1, 4)
    _check(size[special] > 0, records, walking[special], _PROBLEMS[6])
    return size
