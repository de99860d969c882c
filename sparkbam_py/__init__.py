"""sparkbam_py: split BAM files across Spark executors, every read exactly once.

Nothing here imports pyspark at import time: the Spark entry points import it when called.
"""
from __future__ import annotations

from .errors import SparkBamError
from .pos import Pos
from .spark import (
    compute_splits,
    count_reads,
    get_spark,
    load_reads,
    load_reads_and_positions,
    load_splits_and_reads,
    map_partitions,
    register,
)
from .spark.intervals import load_intervals
from .spark.write_api import write_bam
from .splits import Split

__version__ = "0.1.0"

__all__ = [
    "Pos",
    "SparkBamError",
    "Split",
    "__version__",
    "compute_splits",
    "count_reads",
    "get_spark",
    "load_intervals",
    "load_reads",
    "load_reads_and_positions",
    "load_splits_and_reads",
    "map_partitions",
    "register",
    "write_bam",
]
