"""``sparkbam_py.view_bam``: samtools view's filter-and-write job on Spark, record bytes as stored.

Without regions or sorting, each Spark task reads one split and writes the records passing
the FLAG/MAPQ filter straight into its part (:mod:`sparkbam_py.write.split_copy`): the
records never cross into the JVM as rows, which is what lets the job run at samtools'
pace; the driver then commits the parts as ``write_bam`` does (one BAM with ``.bai`` and
``.sbi``, or shards).  With ``sort``, ranges of the coordinate key are planned from short
probes of each split (:mod:`sparkbam_py.write.sort_plan`), the tasks reading the splits
bucket the kept records into one block per range, Spark shuffles the blocks, and one task
per range sorts and writes it (:mod:`sparkbam_py.write.sort_blocks`): no row per record, no
Spark sort.  With ``regions`` (read through each input's index) it goes through the decoded
columns and :func:`~sparkbam_py.spark.write_api.write_bam`.  Works on
classic and Spark Connect sessions alike (:func:`~.tasks.run_on_executors`).
"""
from __future__ import annotations

import pickle
from functools import partial
from typing import Optional, Sequence

from ..write.commit import abort, commit
from ..write.header import WriteHeader, common_header
from ..write.job import WriteJob
from ..write.errors import CommitError
from ..write.sort_blocks import BLOCK_SLOT, BLOCKS_DDL, blocks_of_records, write_range, write_range_parts
from ..write.sort_plan import SortPlan, partition_slots, plan_sort, sample_split
from ..write.sort_spill import RangeShares, range_blocks_of, range_shares, room_to_spill, spill_folder, spill_split
from ..write.split_copy import ReadFilter, copy_split, kept_records_of_split
from ..bam.options import ReadOptions
from ..formats.bam import plan_reads
from ..formats.paths import PathsArgument, expand_paths
from ..formats.sizing import balanced_split_size_for
from .session import local_scratch_root, runs_on_this_machine
from .slots import task_slots
from .tasks import ITEMS_SCHEMA, run_on_executors, task_identity
from .write_api import SUMMARY_SCHEMA, write_bam

# Probing tasks per task slot: the probes are short, a few tasks keep every slot busy.
SAMPLE_TASKS_PER_SLOT = 2
# Splits the driver probes itself (8 short probes each, ~5 ms per probe).
DRIVER_PROBED_SPLITS = 64


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
        return write_sorted_view(spark, tasks, read_filter, out, header, sharded=sharded, overwrite=overwrite,
                                 index=index, level=compression_level)
    job = WriteJob.create(out, header, overwrite=overwrite, sharded=sharded, index=index, level=compression_level)
    try:
        summaries = run_on_executors(spark, partial(_copy_task, job=job, read_filter=read_filter),
                                     list(enumerate(tasks)))
    except BaseException:
        abort(job)
        raise
    return commit(job, summaries)


def write_sorted_view(spark, tasks, read_filter: ReadFilter, out: str, header: WriteHeader, *, sharded: bool,
                      overwrite: bool, index: bool, level: Optional[int]) -> dict:
    """The splits' kept records coordinate-sorted into ``out``: sampled bounds, records
    shuffled in blocks (:mod:`sparkbam_py.write.sort_blocks`), each range sorted and
    written by one task, the parts committed in range order."""
    plan = sort_plan_of(spark, tasks, read_filter)
    job = WriteJob.create(out, header.with_sort_order("coordinate"), overwrite=overwrite, sharded=sharded,
                          index=index, level=level, sorted_output=True)
    try:
        scratch = local_scratch_root(spark) if runs_on_this_machine(spark) else None
        if scratch and room_to_spill(scratch, plan.record_bytes):
            summaries = _sort_through_files(spark, tasks, read_filter, plan, job, scratch)
        else:
            summaries = _sort_through_shuffle(spark, tasks, read_filter, plan, job)
        ranges = [summary.partition for summary in summaries]
        if len(set(ranges)) != len(ranges):
            raise CommitError("a range of the sort was written by two tasks: refusing to commit", out)
    except BaseException:
        abort(job)
        raise
    return commit(job, summaries)


def _sort_through_shuffle(spark, tasks, read_filter: ReadFilter, plan: SortPlan, job: WriteJob) -> list:
    """The blocks through Spark's shuffle, one partition per range (any cluster, Connect too)."""
    blocks = _items_frame(spark, tasks).mapInArrow(partial(_split_blocks, read_filter=read_filter, plan=plan),
                                                   BLOCKS_DDL)
    written = blocks.repartition(plan.ranges, BLOCK_SLOT).mapInArrow(
        partial(_write_ranges, job=job, plan=plan), SUMMARY_SCHEMA).collect()
    return [summary for row in written for summary in pickle.loads(row.summary)]


def _sort_through_files(spark, tasks, read_filter: ReadFilter, plan: SortPlan, job: WriteJob, scratch: str) -> list:
    """The records through files under ``scratch``, on this machine's disk
    (:mod:`sparkbam_py.write.sort_spill`): a local master's tasks all share it, and the
    records never pass through the JVM.  (When the disk lacks room for the records
    uncompressed, Spark's shuffle takes them compressed.)"""
    with spill_folder(scratch) as folder:
        spilled = run_on_executors(spark, partial(_spill_task, folder=folder, read_filter=read_filter, plan=plan),
                                   list(enumerate(tasks)))
        files = [split.file for split in spilled]
        summaries = run_on_executors(spark, partial(_write_spilled_range, files=files, job=job, plan=plan),
                                     range_shares(spilled, plan.ranges))
    kept = sum(file.count for file in files)
    if sum(summary.records for summary in summaries) != kept:
        raise CommitError(f"the sort's ranges hold {sum(s.records for s in summaries)} records, "
                          f"the splits gave {kept}: refusing to commit", job.path)
    return summaries


def sort_plan_of(spark, tasks, read_filter: ReadFilter) -> SortPlan:
    """The sort's ranges, from probes of every split.

    Up to :data:`DRIVER_PROBED_SPLITS` splits are probed on the driver (about a second: a
    Spark job would cost more in scheduling); more on the executors, a few tasks each probing
    a run of splits through ``mapInArrow`` (the Python workers the sort's stages then reuse).
    """
    # Unknown slots (often under Connect): the splits, which were sized to the slots anyway.
    slots = task_slots(spark) or len(tasks)
    numbered = list(enumerate(tasks))
    if len(tasks) <= DRIVER_PROBED_SPLITS:
        samples = [sample_split(task, number, read_filter) for number, task in numbered]
    else:
        groups = min(len(tasks), SAMPLE_TASKS_PER_SLOT * slots)
        runs = [numbered[i * len(tasks) // groups:(i + 1) * len(tasks) // groups] for i in range(groups)]
        probed = _items_frame(spark, runs).mapInArrow(partial(_sample_splits, read_filter=read_filter),
                                                      "samples binary").collect()
        samples = [sample for row in probed for sample in pickle.loads(row.samples)]
    input_bytes = sum(task.range.end - task.range.start for task in tasks)
    return plan_sort(samples, input_bytes, 2 * slots)


def _sample_splits(batches, read_filter: ReadFilter):
    import pyarrow as pa

    for batch in batches:
        runs = [pickle.loads(blob) for blob in batch.column("item").to_pylist()]
        samples = [pickle.dumps([sample_split(task, number, read_filter) for number, task in run]) for run in runs]
        yield pa.RecordBatch.from_pydict({"samples": samples}, schema=pa.schema([("samples", pa.binary())]))


def _items_frame(spark, items):
    """One row per item (its number and pickled self), one item per partition: each row's
    slot is a value Spark's hash partitioning sends to the item's own partition, so no
    range-sampling job runs (a collision would only put two items in one task)."""
    slots = partition_slots(max(1, len(items))).tolist()
    rows = [(number, pickle.dumps(item), slots[number]) for number, item in enumerate(items)]
    frame = spark.createDataFrame(rows, f"{ITEMS_SCHEMA}, slot int")
    return frame.repartition(max(1, len(rows)), "slot").drop("slot")


def _split_blocks(batches, read_filter: ReadFilter, plan: SortPlan):
    for batch in batches:
        for number, blob in zip(batch.column("item_index").to_pylist(), batch.column("item").to_pylist()):
            yield from blocks_of_records(kept_records_of_split(pickle.loads(blob), read_filter), plan, number)


def _write_ranges(batches, job: WriteJob, plan: SortPlan):
    import pyarrow as pa

    summaries = write_range_parts(job, plan, batches, task_identity()[1])
    yield pa.RecordBatch.from_pydict({"summary": [pickle.dumps(summaries)]})


def _spill_task(item, folder: str, read_filter: ReadFilter, plan: SortPlan):
    number, task = item
    return spill_split(kept_records_of_split(task, read_filter), plan, number, folder, task_identity()[1])


def _write_spilled_range(shares: RangeShares, files, job: WriteJob, plan: SortPlan):
    return write_range(job, plan, shares.target, range_blocks_of(files, shares), task_identity()[1])


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
