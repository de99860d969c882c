"""C library functions the compiled kernels call: ``memchr`` and ``memcpy``.

Vectorised by the C library, they beat a numba loop for long runs of bytes (lines of text,
records copied whole).  As for libdeflate (:mod:`.bgzf.native`), each is registered with LLVM
under a name of our own and declared to numba by that name, never by address, so the cached
machine code holds nothing specific to one process.  Import this module only where numba is
in use: importing it registers the symbols (before any kernel using them is linked).
"""
from __future__ import annotations

import ctypes

from llvmlite import binding
from numba import types

MEMCHR_SYMBOL = "sparkbam_memchr"
MEMCPY_SYMBOL = "sparkbam_memcpy"


def _register() -> None:
    library = ctypes.CDLL(None)  # the process's C library (dlopen(NULL)), which defines both
    binding.add_symbol(MEMCHR_SYMBOL, ctypes.cast(library.memchr, ctypes.c_void_p).value)
    binding.add_symbol(MEMCPY_SYMBOL, ctypes.cast(library.memcpy, ctypes.c_void_p).value)


_register()
# memchr(buffer, byte, length) -> address of the first match, or 0 (NULL).
memchr = types.ExternalFunction(MEMCHR_SYMBOL, types.uintp(types.voidptr, types.int32, types.uintp))
# memcpy(destination, source, length) -> destination.
memcpy = types.ExternalFunction(MEMCPY_SYMBOL, types.voidptr(types.voidptr, types.voidptr, types.uintp))
