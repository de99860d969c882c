"""``sparkbam_py.view_bam``: samtools view's filter-and-write job on Spark, record bytes as stored.

Without regions or sorting, each Spark task reads one split and writes the records passing
the FLAG/MAPQ filter straight into its part (:mod:`sparkbam_py.write.split_copy`): the
records never cross into the JVM as rows, which is what lets the job run at samtools'
pace; the driver then commits the parts as ``write_bam`` does (one BAM with ``.bai`` and
``.sbi``, or shards).  With ``regions`` (read through each input's index) or ``sort`` it
goes through a DataFrame and :func:`~sparkbam_py.spark.write_api.write_bam` (the record
column, or the decoded columns where the index reader cannot give records).  Works on
classic and Spark Connect sessions alike (:func:`~.tasks.run_on_executors`).
"""
from __future__ import annotations

from functools import partial
from typing import Optional, Sequence

from ..bam.record_column import RECORD
from ..write.commit import abort, commit
from ..write.header import WriteHeader, common_header
from ..write.job import WriteJob
from ..write.split_copy import ReadFilter, copy_split
from .paths import PathsArgument, expand_paths
from .plan import ReadOptions, plan_reads
from .task_sizing import balanced_split_size_for, task_slots
from .tasks import run_on_executors
from .write_api import write_bam

# What the DataFrame path reads when records can come as bytes: the names set the ids.
_RECORD_SCHEMA = f"reference_name string, next_reference_name string, flag int, mapping_quality int, {RECORD} binary"


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
    if regions or sort:
        reads = _filtered_reads(spark, files, regions, read_filter, split_size)
        return write_bam(reads, out, header, sort=sort, sharded=sharded, overwrite=overwrite, index=index,
                         compression_level=compression_level, check_refs=False)
    if split_size is None:
        split_size = balanced_split_size_for(files, task_slots(spark))
    tasks = plan_reads(files, ReadOptions.of(split_size))
    job = WriteJob.create(out, header, overwrite=overwrite, sharded=sharded, index=index, level=compression_level)
    try:
        summaries = run_on_executors(spark, partial(_copy_task, job=job, read_filter=read_filter),
                                     list(enumerate(tasks)))
    except BaseException:
        abort(job)
        raise
    return commit(job, summaries)


def _copy_task(item, job: WriteJob, read_filter: ReadFilter):
    from .bam_writer import task_identity

    number, task = item
    return copy_split(job, task, number, task_identity()[1], read_filter)


def _filtered_reads(spark, files, regions, read_filter: ReadFilter, split_size):
    from pyspark.sql import functions as F

    from .datasource import register

    register(spark)
    reader = spark.read.format("bam")
    if split_size is not None:
        reader = reader.option("splitSize", str(split_size))
    if regions:
        # The index reader yields decoded columns only: the records are encoded back.
        reader = reader.option("intervals", ",".join(regions))
    else:
        reader = reader.schema(_RECORD_SCHEMA)
    reads = reader.load(files if len(files) > 1 else files[0])
    if read_filter.flag_include:
        reads = reads.where(F.col("flag").bitwiseAND(read_filter.flag_include) == read_filter.flag_include)
    if read_filter.flag_exclude:
        reads = reads.where(F.col("flag").bitwiseAND(read_filter.flag_exclude) == 0)
    if read_filter.min_mapq:
        reads = reads.where(F.col("mapping_quality") >= read_filter.min_mapq)
    return reads
