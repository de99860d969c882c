"""The one switch for compiled kernels, how a kernel is compiled, and when it pays to load one.

Every per-block and per-record loop (the multi-block inflate, the chain walk, the decode
kernels, the depth kernel) is compiled with numba (``@njit(cache=True)``): wheels exist wherever pyspark runs (Linux
x86-64/aarch64, macOS), and the machine code is cached on disk, so a reused Spark Python
worker, or a fresh one on the same node, loads it instead of compiling again.  Each kernel
keeps a pure-Python/numpy path that gives identical results, and a test checks they agree.

Loading costs a fixed ~0.3-0.5 CPU-s per process (numba's import and its compiler context,
then a few ms per kernel), which a small input never repays.  So in the default ``auto``
mode, readers declare the compressed bytes they are about to read (:func:`note_input`), and
until a process has declared ``SPARKBAM_KERNELS_MIN_BYTES`` (default 24 MiB) in total it takes
the numpy paths and never imports numba: a command on a tiny BAM is done before numba would
have loaded.  Reads that open a range but stop early (a file's header) declare nothing
(:func:`short_read`).  Once loaded, the compiled kernels serve every later input of the
process.  A process that declares nothing (a direct call of a decode function) compiles, as before.

Where the cache lives: see :mod:`.kernel_cache` (beside the modules when that folder is
writable, else a per-user folder seeded from any cache shipped with the install).

``SPARKBAM_KERNELS=python`` selects the pure-Python/numpy path (also used when numba is not
installed); ``SPARKBAM_KERNELS=numba`` requires numba and uses it for every input, small or
not.  numba is imported on first use, not when ``sparkbam_py`` is imported.
"""
from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from .errors import ConfigError

KERNELS_ENV = "SPARKBAM_KERNELS"
MIN_BYTES_ENV = "SPARKBAM_KERNELS_MIN_BYTES"
_CHOICES = ("auto", "numba", "python")
# Compressed input below which loading numba costs more than it saves (bench/bench_startup.py,
# whole processes on the short-read bench BAM's first N MB: a full decode breaks even between
# 16 and 32 MB; a count, whose Python walk is cheaper per byte, near 140 MB).
DEFAULT_MIN_INPUT_BYTES = 24 << 20

_lock = threading.Lock()
_declared: Optional[int] = None  # compressed bytes readers declared in this process; None: none yet
_short_reads = threading.local()  # .active: this thread is within short_read


def kernel_choice() -> str:
    """The ``SPARKBAM_KERNELS`` setting: ``auto`` (default), ``numba`` or ``python``."""
    choice = os.environ.get(KERNELS_ENV, "auto").strip().lower() or "auto"
    if choice not in _CHOICES:
        raise ConfigError(f"{KERNELS_ENV} must be one of {', '.join(_CHOICES)}, got {choice!r}")
    return choice


def min_input_bytes() -> int:
    """``SPARKBAM_KERNELS_MIN_BYTES``: the declared input that makes ``auto`` load numba."""
    text = os.environ.get(MIN_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MIN_INPUT_BYTES
    from .config import parse_size  # noqa: PLC0415 (config is light, but only needed here)

    try:
        return int(text) if text.isdigit() else parse_size(text)
    except (ConfigError, ValueError):
        raise ConfigError(f"{MIN_BYTES_ENV} must be a size such as 2m or 0, got {text!r}") from None


def note_input(compressed_bytes: int) -> None:
    """A reader is about to read ``compressed_bytes`` of input in this process."""
    global _declared
    if getattr(_short_reads, "active", False):
        return  # see short_read: the range opened is not what will be read
    with _lock:
        _declared = (_declared or 0) + max(0, int(compressed_bytes))


@contextmanager
def short_read() -> Iterator[None]:
    """Reads on this thread within the block stop early, whatever range they open (a file's
    header: the first split opened, the reader gone at the first data line).  They declare
    nothing and do not load numba (~0.5 s of a process's start); if it is loaded already,
    it serves them.  The process's later choices are as if they had not happened."""
    outer = getattr(_short_reads, "active", False)  # nested blocks leave the outer one's setting
    _short_reads.active = True
    try:
        yield
    finally:
        _short_reads.active = outer


def use_compiled() -> bool:
    """Whether the kernels take the compiled path now (may import numba)."""
    choice = kernel_choice()
    if choice == "python":
        return False
    if choice == "auto" and not _numba_njit.cache_info().currsize and (
            getattr(_short_reads, "active", False) or _declared is not None and _declared < min_input_bytes()):
        return False  # numba not loaded, and too little input so far to repay loading it
    njit = _numba_njit()
    if njit is None and choice == "numba":
        raise ConfigError(f"{KERNELS_ENV}=numba but numba is not installed (pip install numba)")
    return njit is not None


@functools.lru_cache(maxsize=None)
def _numba_njit() -> Optional[Callable]:
    from .kernel_cache import prepare_cache  # noqa: PLC0415

    prepare_cache()  # before numba reads its configuration
    try:
        from numba import njit
    except ImportError:
        return None
    return njit


def compiled(python_function: Callable) -> Optional[Callable]:
    """``python_function`` compiled by numba (cached on disk), or None on the Python path."""
    if not use_compiled():
        return None
    return _compile(python_function, _numba_njit())


@functools.lru_cache(maxsize=None)
def _compile(python_function: Callable, njit: Callable) -> Callable:
    return njit(cache=True, nogil=True)(python_function)


def kernels_in_use() -> str:
    """``"numba"`` or ``"python"``: which path the kernels take in this process now."""
    return "numba" if use_compiled() else "python"
