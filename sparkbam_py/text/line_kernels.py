"""Compiled line kernels (numba): find every line in a run, and pack line bytes for Arrow.

Imported only where :func:`compiled_line_kernels` finds the compiled path selected
(:mod:`sparkbam_py.kernels`); :mod:`.chunk` keeps the numpy versions, which give identical
results (a test checks they agree).  Newlines are found with the C library's ``memchr``
and lines copied with its ``memcpy`` (vectorised; lines of text are usually long), declared to numba by a name of our own as the
inflate kernel declares libdeflate (:mod:`sparkbam_py.bgzf.native`), so the cached machine
code holds no process-specific address.
"""
from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import binding
from numba import njit, types

MEMCHR_SYMBOL = "sparkbam_memchr"
MEMCPY_SYMBOL = "sparkbam_memcpy"
LF = 0x0A
CR = 0x0D


def _register_libc() -> None:
    libc = ctypes.CDLL(None)  # the process's C library (dlopen(NULL)), which defines both
    binding.add_symbol(MEMCHR_SYMBOL, ctypes.cast(libc.memchr, ctypes.c_void_p).value)
    binding.add_symbol(MEMCPY_SYMBOL, ctypes.cast(libc.memcpy, ctypes.c_void_p).value)


_register_libc()  # before numba links this module's cached code
# memchr(buffer, byte, length) -> address of the first match, or 0 (NULL).
_memchr = types.ExternalFunction(MEMCHR_SYMBOL, types.uintp(types.voidptr, types.int32, types.uintp))
# memcpy(destination, source, length) -> destination; ~3x numba's own loop for lines of text.
_memcpy = types.ExternalFunction(MEMCPY_SYMBOL, types.voidptr(types.voidptr, types.voidptr, types.uintp))


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
