"""The C functions compiled kernels call to inflate BGZF blocks: raw deflate and CRC32.

* **Inflate: libdeflate**, the inflater htslib (and so samtools) uses.  It decompresses a
  whole deflate stream into a caller's buffer in one call, which is exactly a BGZF block
  (its inflated size is in the trailer), so many blocks land back to back in one buffer
  with no per-block Python object.  The ``deflate`` wheel links libdeflate statically and
  exports its C symbols, so no system library is needed.
* **Inflate for text: ISA-L's** ``isal_inflate_stateless`` from the ``isal`` wheel, which
  inflates bgzipped text ~10% faster than libdeflate here (BAM's mix of packed bases and
  qualities ~4% slower, so BAM keeps libdeflate).  It takes a ``struct inflate_state``: each
  thread owns one (:func:`.isal_state.isal_state`), of which the kernel sets only the first fields, laid
  out alike in every ISA-L release (igzip_lib.h): ``next_out`` (pointer), ``avail_out`` and
  ``total_out`` (uint32), ``next_in`` (pointer), ``read_in`` (uint64), ``avail_in`` (uint32).
  A state that fails a known block at start-up (:mod:`.isal_state`) turns the ISA-L
  path off.
* **CRC32: ISA-L's** ``crc32_gzip_refl`` from the ``isal`` wheel (carry-less multiply,
  ~40x the table-driven CRC the ``deflate`` wheel's libdeflate was built with here);
  libdeflate's own where isal has no wheel.

Both are registered with LLVM under names of our own, and the kernels declare them as
external functions *by name*: numba's on-disk cache then holds no process-specific address,
so a Spark Python worker loads the cached machine code and links it against this process's
copy of the libraries.  ``available()`` is False where either wheel is missing or
``SPARKBAM_KERNELS=python``; callers then take the per-block path (:mod:`.inflate`).
"""
from __future__ import annotations

import ctypes
import functools
import threading
from typing import Optional

from ..kernels import kernels_in_use  # the one switch for every compiled kernel

# Our names for the C functions, as the compiled kernels refer to them.
INFLATE_SYMBOL = "sparkbam_libdeflate_deflate_decompress_ex"
ISAL_INFLATE_SYMBOL = "sparkbam_isal_inflate_stateless"
CRC32_SYMBOL = "sparkbam_crc32"
# libdeflate.h: enum libdeflate_result; LIBDEFLATE_SUCCESS is 0.
LIBDEFLATE_SUCCESS = 0
# igzip_lib.h: ISAL_DECOMP_OK is 0.
ISAL_DECOMP_OK = 0
# Bytes held for one struct inflate_state: ~90 KB in ISA-L 2.31 (two Huffman lookup tables
# and a 64 KiB history buffer); the start-up check makes sure the tail stays untouched.
ISAL_STATE_BYTES = 512 * 1024
ISAL_STATE_SPARE_BYTES = 128 * 1024
# Inflaters a walk can ask for.
LIBDEFLATE, ISAL = "libdeflate", "isal"

_thread_state = threading.local()


@functools.lru_cache(maxsize=None)
def _libraries() -> Optional[ctypes.CDLL]:
    """libdeflate (ctypes), after registering both symbols with LLVM; None if unavailable."""
    try:
        from deflate import _deflate
        from llvmlite import binding
    except ImportError:
        return None
    libdeflate = ctypes.CDLL(_deflate.__file__)
    binding.add_symbol(INFLATE_SYMBOL, _address(libdeflate.libdeflate_deflate_decompress_ex))
    binding.add_symbol(CRC32_SYMBOL, _address(_crc32_function(libdeflate)))
    binding.add_symbol(ISAL_INFLATE_SYMBOL, _address(_isal_inflate_function()))
    libdeflate.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
    libdeflate.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
    return libdeflate


def _crc32_function(libdeflate: ctypes.CDLL):
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal has wheels wherever numba has
        return libdeflate.libdeflate_crc32
    return ctypes.CDLL(isal_zlib.__file__).crc32_gzip_refl


def _isal_library() -> Optional[ctypes.CDLL]:
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal has wheels wherever numba has
        return None
    return ctypes.CDLL(isal_zlib.__file__)


@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
def _isal_missing(state):  # pragma: no cover - never called: isal_state() is None then
    return -1


def _isal_inflate_function():
    """ISA-L's stateless inflate; without isal, a stand-in the kernels never call (they link
    against the symbol all the same)."""
    isal = _isal_library()
    return _isal_missing if isal is None else isal.isal_inflate_stateless


def _address(function) -> int:
    return ctypes.cast(function, ctypes.c_void_p).value


def available() -> bool:
    """True when the compiled multi-block inflate can run in this process."""
    return kernels_in_use() == "numba" and _libraries() is not None


class _Decompressor:
    """A libdeflate decompressor (not thread-safe: one per thread), freed with its thread."""

    def __init__(self, libdeflate: ctypes.CDLL):
        self._libdeflate = libdeflate
        self.handle = libdeflate.libdeflate_alloc_decompressor()
        if not self.handle:
            raise MemoryError("libdeflate could not allocate a decompressor")

    def __del__(self):
        self._libdeflate.libdeflate_free_decompressor(self.handle)


def decompressor() -> int:
    """This thread's libdeflate decompressor, as the address the kernels take."""
    state = getattr(_thread_state, "decompressor", None)
    if state is None:
        state = _thread_state.decompressor = _Decompressor(_libraries())
    return state.handle


# Why the inflate kernel stopped (see native_kernel.inflate_blocks_kernel).
WANTED = 0  # the run holds what was asked for
NEEDS_INPUT = 1  # no whole block is left in the compressed span
NEEDS_PYTHON = 2  # the next block must go through the per-block path
TABLE_FULL = 3  # the block table has no room left
