"""The user-facing loaders, named after spark-bam's (``loadReads`` -> ``load_reads``...).

On Spark >= 4 the DataFrame loaders go through the Python data source, so they also work
under Spark Connect (Databricks notebooks), where RDDs do not exist; on Spark 3.5 they fall
back to ``mapInArrow`` over a DataFrame of pickled split tasks (planned on the driver).
``count_reads`` and ``compute_splits`` run plain RDD tasks on a classic session (cheaper
than a data source job) and the ``bam_splits`` data source under Connect.
``map_partitions`` uses the RDD API and so needs a classic session; ``map_splits``
(:mod:`.map_splits`) runs the same function on any session, Spark Connect included.
"""
from __future__ import annotations

import os
import pickle
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple

from ..errors import ConfigError
from ..pos import Pos
from ..splits import Split, splits_from_starts
from .cram_api import compute_cram_splits, count_cram_reads, load_cram, names_cram
from .executor import apply_to_split, pysam_path, read_task_column, split_row
from .paths import PathsArgument
from .plan import ColumnPlan, ReadOptions, plan_reads
from .session import is_connect, spark_major_version
from .task_sizing import count_split_size_for, task_slots

DATASOURCE, ARROW = "datasource", "mapInArrow"
METHODS = ("auto", DATASOURCE, ARROW)
FIRST_DATASOURCE_SPARK = 4


def register(spark, pushdown: bool = False) -> None:
    """Make ``spark.read.format("bam")`` (and ``"bam_splits"``) available in this session;
    ``pushdown=True`` also reads filters on reference_name/reference_start through the index."""
    if spark_major_version(spark) < FIRST_DATASOURCE_SPARK:
        raise ConfigError(f"Python data sources need Spark >= 4.0 (this is {spark.version}); "
                          "load_reads and count_reads work there through mapInArrow")
    from .datasource import register as register_sources

    register_sources(spark, pushdown)


def load_reads(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, *,
               reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None, verify_splits: bool = True,
               method: str = "auto", verify_checksums: bool = True):
    """A DataFrame of the reads of ``path`` (a file, glob, directory or list; local or URL).

    ``columns`` picks the columns (pysam names; ``file_position`` and ``file_path`` may be
    added); ``split_size`` (default 32 MiB, ``"64m"`` accepted) sets the partition size.
    ``verify_checksums=False`` skips the BGZF CRC32 check of every block (on by default).
    """
    if names_cram(path):  # CRAM: the same columns through format("cram") (spark/cram_api.py)
        return load_cram(spark, path, split_size, columns, verify_splits=verify_splits)
    options = ReadOptions.of(split_size, reads_to_check, max_read_size, bgzf_blocks_to_check, verify_splits,
                             verify_checksums=verify_checksums)
    return _load(spark, path, options, ColumnPlan.of(columns), method)


def load_reads_and_positions(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None,
                             **options):
    """``load_reads`` plus ``file_position``: each record's 64-bit BGZF virtual offset."""
    read_options = ReadOptions.of(split_size, **_checker_options(options))
    return _load(spark, path, read_options, ColumnPlan.of(columns, with_file_position=True),
                 options.get("method", "auto"))


def load_splits_and_reads(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None,
                          **options) -> Tuple[List[Split], object]:
    """``(splits, reads)``: the splits the load uses (see :func:`compute_splits`) and the DataFrame."""
    splits = compute_splits(spark, path, split_size, **options)
    return splits, load_reads(spark, path, split_size, columns, **options)


def compute_splits(spark, path: PathsArgument, split_size=None, **options) -> List[Split]:
    """spark-bam's splits of one BAM: ``Split(first record, next split's first record)`` for each
    non-empty partition, the last ending at ``Pos(file size, 0)``; found on the executors by
    the same search the loads use."""
    if names_cram(path):  # CRAM: containers as Pos(offset, 0) (spark/cram_api.py)
        return compute_cram_splits(spark, path, split_size, **options)
    read_options = ReadOptions.of(split_size, **_checker_options(options))
    rows = _split_rows(spark, path, read_options, count=False, method=options.get("method", "auto"))
    files = {row[0] for row in rows}
    if len(files) != 1:
        raise ConfigError(f"compute_splits takes one BAM; {path!r} names {len(files)}")
    rows.sort(key=lambda row: row[1])
    starts = [None if row[3] is None else Pos.from_virtual(row[3]) for row in rows]
    return splits_from_starts(starts, rows[-1][2])


def count_reads(spark, path: PathsArgument, split_size=None, **options) -> int:
    """How many reads ``path`` holds: each split walks its block_size chain, nothing decoded.

    Without ``split_size``, local files are cut into one task per task slot (a count's tasks are
    light, so Spark's fixed cost per task matters more than balance); the count is the same.
    """
    if names_cram(path):  # CRAM: container headers' record counts (spark/cram_api.py)
        return count_cram_reads(spark, path, split_size, **options)
    if split_size is None:  # one streaming task per slot (spark/task_sizing.py)
        split_size = count_split_size_for(path, task_slots(spark))
    read_options = ReadOptions.of(split_size, **_checker_options(options))
    rows = _split_rows(spark, path, read_options, count=True, method=options.get("method", "auto"))
    return sum(row[4] for row in rows)


def map_partitions(spark, path: PathsArgument, fn: Callable, split_size=None, **options):
    """An RDD with ``fn(iterator of pysam.AlignedSegment)`` for every split (one element each).

    pysam opens the file inside each task (its handles neither pickle nor survive a fork),
    so ``path`` must be something htslib opens: local, ``file://``, ``http(s)://``, ``s3://``, ``gs://``.
    """
    if is_connect(spark):
        raise ConfigError("map_partitions needs RDDs, which Spark Connect does not have; "
                          "use map_splits (the same function, any session) or load_reads")
    tasks = plan_reads(path, ReadOptions.of(split_size, **_checker_options(options)))
    for task in {task.path: task for task in tasks}.values():
        pysam_path(task.path)
    return spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).map(partial(apply_to_split, fn=fn))


# -- how each loader runs ------------------------------------------------------------------


def _checker_options(options: dict) -> dict:
    known = ("reads_to_check", "max_read_size", "bgzf_blocks_to_check", "verify_splits", "use_splitting_index",
             "verify_checksums")
    unknown = sorted(set(options) - set(known) - {"method"})
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(known + ('method',))}")
    return {key: options[key] for key in known if key in options}


def _method(spark, method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "auto":
        return DATASOURCE if spark_major_version(spark) >= FIRST_DATASOURCE_SPARK else ARROW
    return method


def _load_argument(path: PathsArgument):
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return [os.fspath(item) for item in path]


def _load(spark, path: PathsArgument, options: ReadOptions, plan: ColumnPlan, method: str):
    if _method(spark, method) == DATASOURCE:
        from .datasource import FORMAT

        register(spark)
        reader = spark.read.format(FORMAT).options(**options.to_options()).schema(plan.spark_schema())
        return reader.load(_load_argument(path))
    tasks = plan_reads(path, options)
    rows = [(index, pickle.dumps(task)) for index, task in enumerate(tasks)]
    # One task per partition where the range partitioner manages it, in file order.
    frame = (spark.createDataFrame(rows, "task_index int, task binary")
             .repartitionByRange(len(tasks), "task_index").sortWithinPartitions("task_index"))
    return frame.mapInArrow(partial(read_task_column, plan=plan), plan.spark_schema())


def _split_rows(spark, path: PathsArgument, options: ReadOptions, count: bool, method: str) -> list:
    """(path, range_start, range_end, first_record virtual or None, records or None) per partition.

    A classic session runs them as plain RDD tasks (each data source job also starts Python
    planning workers, ~1 s that a count should not pay); Spark Connect uses ``bam_splits``.
    """
    chosen = _method(spark, method)
    if chosen == DATASOURCE and (method == DATASOURCE or is_connect(spark)):
        from .datasource import COUNT_OPTION, SPLITS_FORMAT

        register(spark)
        reader = spark.read.format(SPLITS_FORMAT).options(**options.to_options()).option(COUNT_OPTION, str(count).lower())
        return [tuple(row) for row in reader.load(_load_argument(path)).collect()]
    tasks = plan_reads(path, options)
    return spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).map(partial(split_row, count=count)).collect()
