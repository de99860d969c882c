"""Where numba caches the compiled kernels, so that every kind of install keeps them.

numba caches a kernel beside its module (``__pycache__``) when that folder is writable, which
is the case for a pip install into a user's environment.  Two installs are different:

* **Read-only** (a system site-packages, a container image, an environment unpacked
  read-only from ``--archives``): numba falls back to ``~/.cache/numba``, and where the home
  folder is not writable either (YARN containers, some Kubernetes pods) it refuses to cache
  at all ("cannot cache function ... no locator available"), so every worker process would
  compile every kernel again (~10 CPU-s).
* **Shipped with its cache** (an image or archive built after ``sparkbam compile-kernels``):
  the ``__pycache__`` folders already hold the machine code, but numba only reads a cache
  folder it can also write to.

So, once per process and before numba compiles anything: when the package folders are not
writable, ``NUMBA_CACHE_DIR`` is pointed at the first writable of numba's user cache folder
and a per-user folder under the system's temporary folder, and that folder is seeded with the
kernels shipped in the package's ``__pycache__`` folders (copied where missing or older).
A ``NUMBA_CACHE_DIR`` the user set is kept, and seeded the same way.  Cached code is keyed by
the source's content hash and the CPU, so a seeded kernel built for another CPU is simply
compiled again, into the writable folder.
"""
from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Iterator, Optional

CACHE_DIR_ENV = "NUMBA_CACHE_DIR"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
CACHE_SUFFIXES = (".nbi", ".nbc")


def prepare_cache() -> Optional[str]:
    """Call before numba is imported: the folder kernels are cached in, or None for numba's
    default (beside each module).  Never raises: caching trouble only costs compile time."""
    try:
        chosen = os.environ.get(CACHE_DIR_ENV) or None
        if chosen is None and _writable(os.path.join(PACKAGE_DIR, "__pycache__")):
            return None
        if chosen is None:
            chosen = _first_writable(_fallback_dirs())
            if chosen is None:
                return None  # nothing writable anywhere: numba compiles without caching
            os.environ[CACHE_DIR_ENV] = chosen
        _set_numba_config(chosen)
        seed(chosen)
        return chosen
    except (OSError, ImportError):  # ImportError: no numba, so nothing to cache
        return None


def _fallback_dirs() -> Iterator[str]:
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(home_cache, "numba")  # numba's own user-wide folder on Linux
    user = getattr(os, "getuid", lambda: "user")()
    yield os.path.join(tempfile.gettempdir(), f"numba-cache-{user}")


def _writable(folder: str) -> bool:
    """numba's own test: the folder can be made and a file created in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def _first_writable(folders: Iterator[str]) -> Optional[str]:
    return next((folder for folder in folders if _writable(folder)), None)


def _set_numba_config(folder: str) -> None:
    """numba reads ``NUMBA_CACHE_DIR`` when imported; if it already was, set its config too."""
    import sys

    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = folder


def shipped_caches() -> Iterator[str]:
    """The package's ``__pycache__`` folders that hold compiled kernels."""
    for index in glob.glob(os.path.join(PACKAGE_DIR, "**", "__pycache__", "*.nbi"), recursive=True):
        yield os.path.dirname(index)


def cache_subfolder(source_dir: str) -> str:
    """Where numba's ``NUMBA_CACHE_DIR`` locator keeps the kernels of modules in ``source_dir``:
    the folder's name and the SHA-1 of its absolute path (numba.core.caching's
    ``get_suitable_cache_subpath``, which takes a file in that folder)."""
    from numba.core.caching import _CacheLocator  # noqa: PLC0415 (numba only on this path)

    return _CacheLocator.get_suitable_cache_subpath(os.path.join(os.path.abspath(source_dir), "module.py"))


def seed(cache_dir: str) -> int:
    """Copy shipped kernels into ``cache_dir`` where missing or older; how many files were copied."""
    copied = 0
    for shipped in sorted(set(shipped_caches())):
        target = os.path.join(cache_dir, cache_subfolder(os.path.dirname(shipped)))
        for source in sorted(os.listdir(shipped)):
            if not source.endswith(CACHE_SUFFIXES):
                continue
            copied += _copy_if_newer(os.path.join(shipped, source), os.path.join(target, source))
    return copied


def _copy_if_newer(source: str, target: str) -> int:
    try:
        if os.path.getmtime(target) >= os.path.getmtime(source):
            return 0
    except OSError:
        pass  # not there yet
    os.makedirs(os.path.dirname(target), exist_ok=True)
    # Through a temporary name: another worker may be loading the target right now.
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
    os.close(fd)
    shutil.copy2(source, temporary)
    os.replace(temporary, target)
    return 1
