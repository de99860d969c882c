"""sparkbam_py: split BAM, CRAM and bgzipped text across Spark executors, every record exactly once.

Nothing here imports pyspark at import time: the Spark entry points import it when called.
"""
from __future__ import annotations

from .errors import SparkBamError
from .local import convert_local, iter_batches, read_table
from .pos import Pos
from .spark import (
    compute_splits,
    count_reads,
    get_spark,
    load_cram,
    load_reads,
    load_reads_and_positions,
    load_splits_and_reads,
    map_partitions,
    register,
)
from .spark.convert import convert
from .spark.coverage import compute_coverage
from .spark.intervals import load_intervals
from .spark.map_regions import map_regions
from .spark.map_splits import map_splits
from .spark.view_api import view_bam
from .spark.write_api import write_bam
from .split import Split
from .version import __version__

__all__ = [
    "Pos",
    "SparkBamError",
    "Split",
    "__version__",
    "compute_coverage",
    "compute_splits",
    "convert",
    "convert_local",
    "count_reads",
    "get_spark",
    "iter_batches",
    "load_cram",
    "load_intervals",
    "load_reads",
    "load_reads_and_positions",
    "load_splits_and_reads",
    "map_partitions",
    "map_regions",
    "map_splits",
    "read_table",
    "register",
    "view_bam",
    "write_bam",
]
