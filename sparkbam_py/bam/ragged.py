"""Ragged byte data: many variable-length byte ranges, gathered and turned into Arrow strings.

A "ragged" value here is a pair ``(values, offsets)``: one contiguous uint8 buffer and int64
offsets of length ``n + 1``; item ``i`` is ``values[offsets[i]:offsets[i + 1]]``.  This is
exactly the memory layout of an Arrow string array, so the last step is free.

Gathering byte ranges out of a large buffer is the hot loop of record decoding (names,
sequences, qualities, tag regions).  numpy can only do it with an index array of one int64
per byte (np.repeat + arange + fancy index): several times slower than Arrow's ``take``
kernel, which copies each range with one memcpy.  So the ranges are described as an Arrow
binary array whose values alternate between a wanted range and the gap before the next one,
and ``take`` of the even items gathers them.  That only needs the ranges to be in ascending,
non-overlapping order, which holds for fields of records laid out one after the other.
The compiled kernel (see :mod:`.kernels`) copies the ranges itself, faster still for the
short ranges (CIGARs, names) that dominate.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np
import pyarrow as pa

from ..kernels import compiled
from .arrow_build import primitive_array, validity_bitmap
from .prefault import populated_empty

# Arrow's `string` type has int32 offsets: one array holds less than 2 GiB of text.
MAX_STRING_ARRAY_BYTES = 2**31 - 1


class Ragged(NamedTuple):
    """Variable-length byte items stored back to back (the layout of an Arrow string array)."""

    values: np.ndarray  # uint8
    offsets: np.ndarray  # int64, len(items) + 1


def take_byte_ranges(
    buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray, order: Optional[np.ndarray] = None
) -> Ragged:
    """Copy the ranges ``buffer[starts[k] : starts[k] + lengths[k]]`` into one contiguous buffer.

    The ranges must be ascending and must not overlap (each starts at or after the previous
    end).  Item i of the result is range ``order[i]`` (default: range i); ``order`` may repeat
    and permute ranges freely.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    picked = lengths if order is None else lengths[order]
    offsets = np.zeros(len(picked) + 1, dtype=np.int64)
    np.cumsum(picked, out=offsets[1:])
    if offsets[-1] == 0:
        return Ragged(np.zeros(0, dtype=np.uint8), offsets)
    kernel = compiled(gather_kernel)
    if kernel is not None:
        values = populated_empty(int(offsets[-1]))
        chosen = np.arange(len(starts), dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)
        source = buffer if isinstance(buffer, np.ndarray) else np.frombuffer(buffer, dtype=np.uint8)
        kernel(source.reshape(-1).view(np.uint8), starts, lengths, chosen, offsets, values)
        return Ragged(values, offsets)
    # Boundaries of the items range0, gap0, range1, gap1, ..., rangeN-1: range k is item 2k.
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = starts + lengths
    interleaved = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(bounds), pa.py_buffer(buffer)]
    )
    items = 2 * (np.arange(len(starts), dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64))
    wanted = interleaved.take(primitive_array(items, np.int64))
    return Ragged(_values_of(wanted, offsets[-1]), offsets)


def gather_kernel(buffer, starts, lengths, order, offsets, values):
    """``values[offsets[i]:offsets[i + 1]]`` = range ``order[i]`` of ``buffer`` (numba-compiled;
    see :mod:`.kernels`): one copy per range, however short, with no per-call set-up."""
    for item in range(len(order)):
        picked = order[item]
        size = lengths[picked]
        # Copying between local views lets the compiler vectorise the loop.
        source = buffer[starts[picked] : starts[picked] + size]
        target = values[offsets[item] : offsets[item] + size]
        for k in range(size):
            target[k] = source[k]


def pick_ragged(parts: Sequence[Ragged], part_index: np.ndarray, item_index: np.ndarray) -> Ragged:
    """Items taken from several ragged sources, in the order given by (part, item) pairs."""
    if len(part_index) == 0:
        return Ragged(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))
    sizes = [len(part.values) for part in parts]
    bases = np.cumsum([0] + sizes[:-1]).astype(np.int64)
    item_bases = np.cumsum([0] + [len(part.offsets) - 1 for part in parts]).astype(np.int64)
    starts = np.concatenate([part.offsets[:-1] + base for part, base in zip(parts, bases)])
    lengths = np.concatenate([np.diff(part.offsets) for part in parts])
    values = np.concatenate([part.values for part in parts])
    return take_byte_ranges(values, starts, lengths, order=item_bases[part_index] + item_index)


def _values_of(array: pa.Array, size: int) -> np.ndarray:
    """The data buffer of a binary array as uint8, without copying."""
    data = array.buffers()[2]
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    offset = int(np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset])
    return np.frombuffer(data, dtype=np.uint8)[offset : offset + int(size)]


def strings_array(strings: Sequence[str]) -> pa.StringArray:
    """Python strings as an Arrow ``string`` array, built from their UTF-8 bytes.

    Not ``pa.array(list)``: on a list pyarrow first asks whether pandas is installed, which
    imports it (~0.15 CPU s in a process that has no other use for it)."""
    encoded = [text.encode("utf-8") for text in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    return string_array(Ragged(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets))


def string_array(ragged: Ragged, valid: Optional[np.ndarray] = None) -> pa.StringArray:
    """An Arrow ``string`` array over the ragged items, null where ``valid`` is False."""
    size = int(ragged.offsets[-1])
    if size > MAX_STRING_ARRAY_BYTES:
        raise ValueError(
            f"a column of {size} bytes exceeds Arrow's 2 GiB string limit; decode fewer records at once"
        )
    offsets32 = populated_empty(len(ragged.offsets), np.int32)
    offsets32[:] = ragged.offsets  # below 2 GiB (checked above): the narrowing is exact
    return pa.StringArray.from_buffers(
        len(offsets32) - 1,
        pa.py_buffer(offsets32),
        pa.py_buffer(np.ascontiguousarray(ragged.values)),
        validity_bitmap(valid),
    )
