"""``map_splits``: a user function over each split's records, on any session, Connect included.

``map_partitions`` returns an RDD, which Spark Connect (Databricks shared and serverless
compute) does not have.  ``map_splits`` runs the same executor code, one Spark task per
split, through :func:`~sparkbam_py.spark.tasks.run_on_executors` (an RDD on a classic
session, ``mapInArrow`` under Connect) and returns the function's results, in file order.

The function sees either pysam's ``AlignedSegment`` objects (``records="pysam"``, as
``map_partitions``) or Arrow record batches of the chosen columns (``records="arrow"``,
much faster: the records are decoded column-wise, not one Python object each).  Either way
the split's boundary is checked after the function returns, so a result computed from a
wrongly found start never comes back.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Iterator, List, Optional, Sequence

import pyarrow as pa

from ..errors import ConfigError
from ..bam.splits import SplitTask
from .executor import apply_to_split, pysam_path, read_record_batches
from .paths import PathsArgument
from .plan import ColumnPlan, ReadOptions, plan_reads

PYSAM, ARROW = "pysam", "arrow"


def map_splits(spark, path: PathsArgument, fn: Callable, split_size=None, *, records: str = PYSAM,
               columns: Optional[Sequence[str]] = None, reads_to_check=None, max_read_size=None,
               bgzf_blocks_to_check=None, verify_splits: bool = True) -> List:
    """``[fn(records of split) for each split of path]``, each call in its own Spark task.

    ``records="pysam"``: ``fn(iterator of pysam.AlignedSegment)``; ``path`` must then be
    something htslib opens (local, ``file://``, ``http(s)://``, ``s3://``, ``gs://``).
    ``records="arrow"``: ``fn(iterator of pyarrow.RecordBatch)`` with ``columns`` (pysam
    names; default all, plus ``file_position``/``file_path`` if asked for); any store.
    ``fn``'s results must pickle.  Works on classic and Spark Connect sessions alike.
    """
    if records not in (PYSAM, ARROW):
        raise ConfigError(f"records must be {PYSAM!r} or {ARROW!r}, got {records!r}")
    options = ReadOptions.of(split_size, reads_to_check, max_read_size, bgzf_blocks_to_check, verify_splits)
    tasks = plan_reads(path, options)
    if records == PYSAM:
        for task in {task.path: task for task in tasks}.values():
            pysam_path(task.path)  # fail on the driver for stores htslib cannot open
        function = partial(apply_to_split, fn=fn)
    else:
        function = partial(apply_to_batches, fn=fn, plan=ColumnPlan.of(columns))
    from .tasks import run_on_executors

    return run_on_executors(spark, function, tasks)


def apply_to_batches(task: SplitTask, fn: Callable, plan: ColumnPlan) -> object:
    """``fn(iterator of the task's record batches)``; then the rest of the split is read (not
    handed to ``fn``) so that the boundary check runs even if ``fn`` stopped early."""
    batches: Iterator[pa.RecordBatch] = read_record_batches(task, plan)
    result = fn(batches)
    for _ in batches:
        pass
    return result
