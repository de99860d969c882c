"""sparkbam_py: split BAM, CRAM and bgzipped text across Spark executors, every record exactly once.

``import sparkbam_py`` is cheap: each public name is imported from its module the first time it
is used (PEP 562), so a command or a worker that reads one BAM does not pay for pyspark, the
Parquet writers or the coverage store.  Nothing here imports pyspark: the Spark entry points
import it when called.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import convert as _convert_package  # noqa: F401 (see below)
from .errors import SparkBamError
from .pos import Pos
from .version import __version__

# ``sparkbam_py.convert`` is both a subpackage and the public function: the (empty) subpackage
# is imported now so that importing its modules later never rebinds the name, and the name is
# handed to ``__getattr__`` like every other public function.
del convert

# Public name -> the module that defines it (imported on first access).
_LAZY = {
    "compute_coverage": ".spark.coverage",
    "compute_splits": ".spark",
    "convert": ".spark.convert",
    "convert_local": ".local",
    "count_reads": ".spark",
    "get_spark": ".spark",
    "iter_batches": ".local",
    "load_cram": ".spark",
    "load_intervals": ".spark.intervals",
    "load_reads": ".spark",
    "load_reads_and_positions": ".spark",
    "load_splits_and_reads": ".spark",
    "map_partitions": ".spark",
    "map_regions": ".spark.map_regions",
    "map_splits": ".spark.map_splits",
    "read_table": ".local",
    "register": ".spark",
    "Split": ".split",
    "view_bam": ".spark.view_api",
    "write_bam": ".spark.write_api",
}

__all__ = sorted(["Pos", "SparkBamError", "__version__", *_LAZY])


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__():
    return __all__


if TYPE_CHECKING:  # what static tools and IDEs see: the same names, imported eagerly
    from .local import convert_local, iter_batches, read_table
    from .spark import (compute_splits, count_reads, get_spark, load_cram, load_reads, load_reads_and_positions,
                        load_splits_and_reads, map_partitions, register)
    from .spark.convert import convert
    from .spark.coverage import compute_coverage
    from .spark.intervals import load_intervals
    from .spark.map_regions import map_regions
    from .spark.map_splits import map_splits
    from .spark.write_api import write_bam
    from .spark.view_api import view_bam
    from .split import Split
