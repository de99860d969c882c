"""Compiled line kernels (numba): find every line in a run, and pack line bytes for Arrow.

Imported only where :func:`compiled_line_kernels` finds the compiled path selected
(:mod:`sparkbam_py.kernels`); :mod:`.chunk` keeps the numpy versions, which give identical
results (a test checks they agree).  Newlines are found with the C library's ``memchr``
and lines copied with its ``memcpy`` (:mod:`sparkbam_py.libc`): vectorised, and lines of
text are usually long.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..libc import memchr as _memchr
from ..libc import memcpy as _memcpy

LF = 0x0A
CR = 0x0D


@njit(cache=True, nogil=True)
def line_bounds_kernel(data, begin, starts, ends):
    """Lines ended by LF in ``data[begin:]``: fills ``starts``/``ends`` (terminators excluded,
    one CR before the LF dropped, as htslib's ``bgzf_getline``) up to their length.

    Returns ``(lines, after)``: how many were found and the index after the last LF found.
    When ``lines == len(starts)`` the arrays were full: call again from ``after``.
    """
    end = len(data)
    base = data.ctypes.data
    count = 0
    start = begin
    while start < end and count < len(starts):
        found = _memchr(data[start:].ctypes.data, LF, end - start)
        if found == 0:
            break
        newline = np.int64(found - base)
        stop = newline
        if stop > start and data[stop - 1] == CR:
            stop -= 1
        starts[count] = start
        ends[count] = stop
        count += 1
        start = newline + 1
    return count, start


@njit(cache=True, nogil=True)
def pack_lines_kernel(data, starts, ends, out, offsets):
    """Copy line k's bytes ``data[starts[k]:ends[k]]`` to ``out`` back to back; ``offsets``
    (one longer than ``starts``) gets where each begins: Arrow's string layout."""
    written = 0
    offsets[0] = 0
    for k in range(len(starts)):
        length = ends[k] - starts[k]
        if length > 0:
            _memcpy(out[written:].ctypes.data, data[starts[k]:].ctypes.data, length)
        written += length
        offsets[k + 1] = written
    return written
