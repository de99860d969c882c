"""The one switch for compiled kernels, and how a kernel is compiled.

Every per-block and per-record loop (the multi-block inflate, the chain walk, the decode
kernels, the depth kernel) is compiled with numba (``@njit(cache=True)``): wheels exist wherever pyspark runs (Linux
x86-64/aarch64, macOS), and the machine code is cached on disk, so a reused Spark Python
worker, or a fresh one on the same node, loads it instead of compiling again.  Each kernel
keeps a pure-Python/numpy path that gives identical results, and a test checks they agree.

Where the cache lives: numba writes it into ``__pycache__`` beside this module when that
folder is writable, else into the user-wide cache (``~/.cache/numba`` or the folder named
by ``NUMBA_CACHE_DIR``), so a read-only install or a zip shipped with ``--py-files`` still
caches (set ``NUMBA_CACHE_DIR`` on executors whose home is not writable either).

``SPARKBAM_KERNELS=python`` selects the pure-Python/numpy path (also used when numba is not
installed); ``SPARKBAM_KERNELS=numba`` requires numba.  numba is imported on first use, not
when ``sparkbam_py`` is imported.
"""
from __future__ import annotations

import functools
import os
from typing import Callable, Optional

from .errors import ConfigError

KERNELS_ENV = "SPARKBAM_KERNELS"
_CHOICES = ("auto", "numba", "python")


def kernel_choice() -> str:
    """The ``SPARKBAM_KERNELS`` setting: ``auto`` (default), ``numba`` or ``python``."""
    choice = os.environ.get(KERNELS_ENV, "auto").strip().lower() or "auto"
    if choice not in _CHOICES:
        raise ConfigError(f"{KERNELS_ENV} must be one of {', '.join(_CHOICES)}, got {choice!r}")
    return choice


@functools.lru_cache(maxsize=None)
def _numba_njit() -> Optional[Callable]:
    try:
        from numba import njit
    except ImportError:
        return None
    return njit


def compiled(python_function: Callable) -> Optional[Callable]:
    """``python_function`` compiled by numba (cached on disk), or None on the Python path."""
    choice = kernel_choice()
    if choice == "python":
        return None
    njit = _numba_njit()
    if njit is None:
        if choice == "numba":
            raise ConfigError(f"{KERNELS_ENV}=numba but numba is not installed (pip install numba)")
        return None
    return _compile(python_function, njit)


@functools.lru_cache(maxsize=None)
def _compile(python_function: Callable, njit: Callable) -> Callable:
    return njit(cache=True, nogil=True)(python_function)


def kernels_in_use() -> str:
    """``"numba"`` or ``"python"``: which path the kernels take in this process."""
    return "numba" if kernel_choice() != "python" and _numba_njit() is not None else "python"
