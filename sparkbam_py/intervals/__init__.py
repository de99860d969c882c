"""Interval loading through the BAM index: only the reads overlapping some regions.

No pyspark here (``sparkbam_py.spark.intervals`` and the data source build on it):

* :func:`plan_interval_partitions` (driver): region strings -> index chunks (BAI, CSI, or a
  ``.bai.json`` and only the ``.bai`` slices it needs) -> merged -> cut at index record
  starts -> partitions of about ``split_size`` estimated compressed bytes.
* :func:`read_interval_partition` (executor): the partition's overlapping reads as Arrow
  batches, each read once.
* :func:`regions_from_filters` and :func:`split_intervals`: regions from pushed-down Spark
  filters and from the ``intervals`` option text.
"""
from __future__ import annotations

from ..index.regions import Region
from .filters import regions_from_filters, split_intervals
from .index_access import BaiJsonIndex, IndexAccess, WholeIndex, open_index
from .pieces import ChunkPiece, TailRange
from .plan import IntervalPartition, describe_plan, plan_interval_partitions, plan_with_index, resolve_regions
from .read import read_interval_partition

__all__ = [
    "BaiJsonIndex", "ChunkPiece", "IndexAccess", "IntervalPartition", "Region", "TailRange", "WholeIndex",
    "describe_plan", "open_index", "plan_interval_partitions", "plan_with_index", "read_interval_partition",
    "regions_from_filters", "resolve_regions", "split_intervals",
]
