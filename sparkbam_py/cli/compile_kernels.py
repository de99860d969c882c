"""``compile-kernels``: compile every compiled kernel into the cache now (before packing an
image or an archive whose workers should not compile); says where the cache is."""
from __future__ import annotations

import os
import time

from .common import Command, Result


class CompileKernels(Command):
    name = "compile-kernels"
    help = "compile the numba kernels into their cache now (for images and shipped archives)"

    def configure(self, parser):
        pass

    def run(self, args) -> Result:
        from ..kernel_cache import PACKAGE_DIR, CACHE_DIR_ENV  # noqa: PLC0415
        from ..local.kernel_warmup import compile_all  # noqa: PLC0415

        started = time.monotonic()
        read = compile_all()
        seconds = time.monotonic() - started
        folder = os.environ.get(CACHE_DIR_ENV) or PACKAGE_DIR
        files = sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
                       if name.endswith((".nbi", ".nbc")))
        data = {"cache": folder, "files": len(files), "bytes": sum(os.path.getsize(path) for path in files),
                "rows": read, "seconds": round(seconds, 3)}
        return Result([f"{len(files)} cache files ({data['bytes']} bytes) under {folder} in {seconds:.1f} s"], data)


COMMAND = CompileKernels()
