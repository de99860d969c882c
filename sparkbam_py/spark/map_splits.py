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
from typing import Any, Callable, Iterator, List, Optional, Sequence

import pyarrow as pa

from ..bam.pysam_split import apply_to_split, pysam_path
from ..errors import ConfigError
from ..formats import FORMAT_NAMES, FormatRead, open_read
from ..formats.paths import PathsArgument

PYSAM, ARROW = "pysam", "arrow"


def map_splits(spark, path: PathsArgument, fn: Callable, split_size=None, *, records: str = PYSAM,
               columns: Optional[Sequence[str]] = None, reads_to_check=None, max_read_size=None,
               bgzf_blocks_to_check=None, verify_splits: bool = True, **format_options) -> List:
    """``[fn(records of split) for each split of path]``, each call in its own Spark task.

    Works on classic and Spark Connect sessions alike. The split's boundary is checked after
    ``fn`` returns, even when it stopped reading early.

    Args:
        spark: a SparkSession (classic or Connect).
        path: a file, glob, directory or list; local or URL.
        fn: called once per split with its records; its results must pickle.
        split_size: bytes per split (default 32 MiB).
        records: ``"pysam"``: ``fn(iterator of pysam.AlignedSegment)`` over a BAM, whose path
            must then be something htslib opens (local, ``file://``, ``http(s)://``,
            ``s3://``, ``gs://``). ``"arrow"``: ``fn(iterator of pyarrow.RecordBatch)`` over
            any format the registry reads (BAM, CRAM, VCF...) and any store.
        columns: with ``records="arrow"``, the format's column names (default all, plus
            ``file_position``/``file_path`` if asked for).
        reads_to_check: BAM's checker option (as :func:`load_reads`).
        max_read_size: BAM's checker option.
        bgzf_blocks_to_check: BAM's checker option.
        verify_splits: check each split's boundary with the next.
        **format_options: the format's data source options, in snake case.

    Returns:
        A list with ``fn``'s result for each split, in file order.
    """
    if records not in (PYSAM, ARROW):
        raise ConfigError(f"records must be {PYSAM!r} or {ARROW!r}, got {records!r}")
    accepted = ("bam",) if records == PYSAM else FORMAT_NAMES
    read = open_read(path, accepted, "map_splits", columns if records == ARROW else None, split_size=split_size,
                     reads_to_check=reads_to_check, max_read_size=max_read_size,
                     bgzf_blocks_to_check=bgzf_blocks_to_check,
                     verify_splits=verify_splits, **format_options)[1]
    tasks = read.tasks()
    if records == PYSAM:
        for task in {task.path: task for task in tasks}.values():
            pysam_path(task.path)  # fail on the driver for stores htslib cannot open
        function = partial(apply_to_split, fn=fn)
    else:
        function = partial(apply_to_batches, fn=fn, read=read)
    from .tasks import run_on_executors

    return run_on_executors(spark, function, tasks)


def apply_to_batches(task: Any, fn: Callable, read: FormatRead) -> object:
    """``fn(iterator of the task's record batches)``; then the rest of the split is read (not
    handed to ``fn``) so that the boundary check runs even if ``fn`` stopped early."""
    batches: Iterator[pa.RecordBatch] = read.read(task)
    result = fn(batches)
    for _ in batches:
        pass
    return result
