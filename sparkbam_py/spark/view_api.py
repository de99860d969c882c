"""``sparkbam_py.view_bam``: samtools view's filter-and-write job on Spark, record bytes as stored.

Without regions or sorting, each Spark task reads one split and writes the records passing
the FLAG/MAPQ filter straight into its part (:mod:`sparkbam_py.write.split_copy`): the
records never cross into the JVM as rows, which is what lets the job run at samtools'
pace; the driver then commits the parts as ``write_bam`` does (one BAM with ``.bai`` and
``.sbi``, or shards).  With ``sort``, the tasks reading the splits turn the kept records
straight into the compact sort rows (:mod:`sparkbam_py.write.sort_rows`), so the records
enter the JVM once, for the shuffle.  With ``regions`` (read through each input's index)
it goes through the decoded columns and :func:`~sparkbam_py.spark.write_api.write_bam`.  Works on
classic and Spark Connect sessions alike (:func:`~.tasks.run_on_executors`).
"""
from __future__ import annotations

import pickle
from functools import partial
from typing import Optional, Sequence

from ..write.commit import abort, commit
from ..write.header import WriteHeader, common_header
from ..write.job import WriteJob
from ..write.sort_rows import SORT_ROWS_DDL, sort_rows
from ..write.split_copy import ReadFilter, copy_split, kept_records_of_split
from ..bam.options import ReadOptions
from ..formats.bam import plan_reads
from ..formats.paths import PathsArgument, expand_paths
from ..formats.sizing import balanced_split_size_for
from .slots import task_slots
from .tasks import ITEMS_SCHEMA, run_on_executors, task_identity
from .write_api import range_sorted, write_bam, write_sorted_rows


def view_bam(spark, paths: PathsArgument, out: str, *, regions: Sequence[str] = (), flag_include: int = 0,
             flag_exclude: int = 0, min_mapq: int = 0, sort: bool = False, sharded: bool = False,
             overwrite: bool = False, index: bool = True, compression_level: Optional[int] = None,
             split_size=None, header: Optional[WriteHeader] = None) -> dict:
    """Write the reads of ``paths`` passing the filters (samtools view ``-f``/``-F``/``-q``,
    and ``regions`` through each input's index) to ``out``; returns what was written.

    The inputs must share one reference dictionary; the header is the first input's unless
    ``header`` is given (with the same references).
    """
    files = expand_paths(paths)
    header = header or common_header(files)
    read_filter = ReadFilter(flag_include, flag_exclude, min_mapq)
    if regions:
        reads = _filtered_reads(spark, files, regions, read_filter, split_size)
        return write_bam(reads, out, header, sort=sort, sharded=sharded, overwrite=overwrite, index=index,
                         compression_level=compression_level, check_refs=False)
    if split_size is None:
        split_size = balanced_split_size_for(files, task_slots(spark))
    tasks = plan_reads(files, ReadOptions.of(split_size))
    if sort:
        rows = sorted_rows_of_splits(spark, tasks, read_filter)
        return write_sorted_rows(rows, out, header, sharded=sharded, overwrite=overwrite, index=index,
                                 level=compression_level, backend="", sbi_granularity=None)
    job = WriteJob.create(out, header, overwrite=overwrite, sharded=sharded, index=index, level=compression_level)
    try:
        summaries = run_on_executors(spark, partial(_copy_task, job=job, read_filter=read_filter),
                                     list(enumerate(tasks)))
    except BaseException:
        abort(job)
        raise
    return commit(job, summaries)


def sorted_rows_of_splits(spark, tasks, read_filter: ReadFilter):
    """The compact sort rows (:mod:`sparkbam_py.write.sort_rows`) of every split's kept
    records, in coordinate order, one output partition per split (whole waves).

    The tasks reading the splits make the rows, so records enter the JVM once, for the
    shuffle.  Spark's range sampling adds no second read of the splits here (measured: the
    same CPU as with bounds sampled from the splits and rows placed by hash), so it is used.
    """
    items = [(number, pickle.dumps(task)) for number, task in enumerate(tasks)]
    frame = spark.createDataFrame(items, ITEMS_SCHEMA).repartitionByRange(max(1, len(items)), "item_index")
    rows = frame.mapInArrow(partial(_split_sort_rows, read_filter=read_filter), SORT_ROWS_DDL)
    return range_sorted(rows, max(1, len(tasks)))


def _split_sort_rows(batches, read_filter: ReadFilter):
    for batch in batches:
        for number, blob in zip(batch.column("item_index").to_pylist(), batch.column("item").to_pylist()):
            row = 0
            for records in kept_records_of_split(pickle.loads(blob), read_filter):
                yield sort_rows(records, number, row)
                row += len(records)


def _copy_task(item, job: WriteJob, read_filter: ReadFilter):
    number, task = item
    return copy_split(job, task, number, task_identity()[1], read_filter)


def _filtered_reads(spark, files, regions, read_filter: ReadFilter, split_size):
    """The reads overlapping ``regions`` passing the filter, decoded."""
    from pyspark.sql import functions as F

    from .api import register  # a typed error before Spark 4, which has no Python data sources

    register(spark)
    reader = spark.read.format("bam")
    if split_size is not None:
        reader = reader.option("splitSize", str(split_size))
    # The index reader yields decoded columns only: the records are encoded back.
    reads = reader.option("intervals", ",".join(regions)).load(files if len(files) > 1 else files[0])
    if read_filter.flag_include:
        reads = reads.where(F.col("flag").bitwiseAND(read_filter.flag_include) == read_filter.flag_include)
    if read_filter.flag_exclude:
        reads = reads.where(F.col("flag").bitwiseAND(read_filter.flag_exclude) == 0)
    if read_filter.min_mapq:
        reads = reads.where(F.col("mapping_quality") >= read_filter.min_mapq)
    return reads
