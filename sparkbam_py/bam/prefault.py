"""Output buffers faulted in with one system call instead of one page fault per 4 KiB.

A decoded column is written once, by a compiled kernel, into memory the process has never
touched: the kernel then takes a page fault for every 4 KiB page it reaches first.  A table
held whole (``read_table``) is ~1.75 GB of such pages for the 288 MB bench BAM, ~450 k
faults.  ``madvise(MADV_POPULATE_WRITE)`` (Linux >= 5.14) faults a whole range in at once,
which costs about two thirds of touching it page by page (measured: 0.51-0.59 s against
0.84-0.89 s for 1.8 GB).  The content is not changed (it is only made present and
writable), so the advice is applied to the pages lying wholly inside the array only.  Where
the kernel or platform lacks it, the first refusal turns it off and arrays are plain
``np.empty`` ones.
"""
from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

# linux/mman.h (uapi asm-generic/mman-common.h): MADV_POPULATE_WRITE, Linux 5.14.
MADV_POPULATE_WRITE = 23
# A fault costs ~1.9 us here and a populated page ~1.2 us, the call itself a few us: below
# a few pages the advice costs more than it saves.
MIN_POPULATE_BYTES = 32 * 1024

_PAGE = mmap.PAGESIZE


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


_state = {"madvise": _madvise()}


def populated_empty(size: int, dtype=np.uint8) -> np.ndarray:
    """``np.empty(size, dtype)`` whose pages are already present and writable (where the
    kernel can do that in bulk; otherwise simply ``np.empty``)."""
    array = np.empty(size, dtype=dtype)
    madvise = _state["madvise"]
    if madvise is not None and array.nbytes >= MIN_POPULATE_BYTES:
        address = array.ctypes.data
        first = -(-address // _PAGE) * _PAGE  # rounded up: no page shared with other data
        last = (address + array.nbytes) // _PAGE * _PAGE
        if last > first and madvise(first, last - first, MADV_POPULATE_WRITE) != 0:
            _state["madvise"] = None  # EINVAL before Linux 5.14; any refusal: stop asking
    return array
