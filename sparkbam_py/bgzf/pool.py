"""Scratch and output arrays in Arrow's memory pool rather than fresh ``np.empty`` memory.

A walk makes a new buffer of a few MB for every run of inflated data, and a line read one
for every chunk of packed lines.  Freed, numpy's memory goes back to the C library, which
returns large blocks to the kernel, so the next buffer is fresh memory again: the kernel
zero-fills it page by page on first touch (a page fault per 4 KiB; ~0.15 s of system time
per 500 MB of text here).  Arrow's pool keeps freed pages for the next allocation.  The
arrays are ordinary writable numpy arrays over a ``pyarrow.Buffer`` (which owns the memory
and frees it when the last view goes), so Arrow arrays built on them take that buffer
without a copy (:func:`arrow_buffer`).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def pool_array(length: int, dtype=np.uint8) -> np.ndarray:
    """An uninitialised 1-D array of ``length`` items from Arrow's default memory pool."""
    dtype = np.dtype(dtype)
    return np.frombuffer(pa.allocate_buffer(length * dtype.itemsize), dtype=dtype)


def arrow_buffer(array: np.ndarray) -> pa.Buffer:
    """The Arrow buffer holding exactly ``array``'s bytes, without a copy: the pool's own
    buffer for a whole :func:`pool_array`, else a buffer over the array."""
    base = array.base
    if isinstance(base, pa.Buffer) and base.size == array.nbytes and base.address == array.ctypes.data:
        return base
    return pa.py_buffer(array)
