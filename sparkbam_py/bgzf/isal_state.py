"""Each thread's ISA-L ``struct inflate_state`` for the compiled text inflate, checked once.

The kernels set only the first fields of the struct (see :mod:`.native`); before a thread
uses ISA-L, a known deflate stream goes through that layout and must come back exact, with
the state's spare tail untouched, or the thread keeps to libdeflate.  Apart from
:mod:`.native` because the check runs the compiled kernel (:mod:`.native_kernel`), which
itself imports :mod:`.native`.
"""
from __future__ import annotations

import ctypes
import threading
import zlib
from typing import Optional

import numpy as np

from . import native
from .native_kernel import isal_inflate

_thread = threading.local()


def isal_state() -> Optional["np.ndarray"]:
    """This thread's ISA-L ``struct inflate_state`` (a uint64 array the kernels fill), or
    None where ISA-L is missing or fails the start-up check."""
    state = getattr(_thread, "isal_state", False)
    if state is False:
        state = _thread.isal_state = _checked_isal_state()
    return state


def _checked_isal_state():
    isal = native._isal_library()
    if isal is None or native._libraries() is None:
        return None
    state = np.zeros(native.ISAL_STATE_BYTES // 8, dtype=np.uint64)
    isal.isal_inflate_init(ctypes.c_void_p(state.ctypes.data))
    return state if _inflates_known_block(state) else None


def _inflates_known_block(state) -> bool:
    """ISA-L, through the kernels' field layout, inflates a known deflate stream exactly,
    and leaves the state's last bytes untouched."""
    text = b"".join(b"chr%d\t%d\tA\tC\t50\tPASS\n" % (k % 23, k * 37) for k in range(3000))
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = np.frombuffer(packer.compress(text) + packer.flush(), dtype=np.uint8)
    out = np.zeros(len(text) + 64, dtype=np.uint8)
    produced, consumed_all, ok = isal_inflate(state, payload, out)
    spare = state.view(np.uint8)[-native.ISAL_STATE_SPARE_BYTES:]
    return bool(ok and consumed_all and produced == len(text) and out[:produced].tobytes() == text and not spare.any())
