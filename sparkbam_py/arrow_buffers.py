"""Raw buffers of Arrow string and binary columns, as numpy, for the vectorised encoders and formatters."""
from __future__ import annotations

from typing import Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def combined(array) -> pa.Array:
    """One contiguous array from an Array or ChunkedArray."""
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    return array


def text_buffers(array) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values uint8, offsets int64 from 0, valid bool)`` of a string/binary column.

    Nulls become empty items (Arrow lets a null slot span bytes; this guarantees it does not).
    """
    array = combined(array)
    valid = np.ones(len(array), dtype=bool) if array.null_count == 0 else \
        np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if array.null_count:
        array = pc.fill_null(array, "")
    buffers = array.buffers()
    offset_type = np.int64 if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type) \
        else np.int32
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[array.offset: array.offset + len(array) + 1]
    offsets = offsets.astype(np.int64)
    base = int(offsets[0]) if len(offsets) else 0
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    values = data[base: int(offsets[-1])] if len(offsets) else data[:0]
    return values, offsets - base, valid
