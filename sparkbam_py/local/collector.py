"""Python's cyclic garbage collector paused while ``read_table`` gathers its batches.

Holding a table means holding its batches: every decoded chunk leaves Arrow and numpy
objects alive, so the collector's allocation counter keeps crossing its threshold and it
runs ~365 times over the bench BAM, each time traversing every object the process holds
(numba's and pyarrow's modules included): 0.11-0.13 CPU s, ~2% of a ``read_table``.  None of
that work finds anything: the decode makes no reference cycles (its objects die by reference
counting, as the unchanged process size with the collector paused shows).  So ``read_table``
pauses the collector for exactly its own call and restores it in ``finally``; callers who
run the collector themselves, or turned it off, find it as they left it.  Concurrent calls
(threads) share one pause, ended by the last one to finish.  ``iter_batches`` does not
pause: it is a generator, and the caller's code runs between its batches.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_pause = {"holders": 0, "was_enabled": False}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off inside the block (reference counting still frees memory),
    back to its previous state when the last concurrent block ends."""
    with _lock:
        if _pause["holders"] == 0:
            _pause["was_enabled"] = gc.isenabled()
            gc.disable()
        _pause["holders"] += 1
    try:
        yield
    finally:
        with _lock:
            _pause["holders"] -= 1
            if _pause["holders"] == 0 and _pause["was_enabled"]:
                gc.enable()
