"""``compute_coverage``: per-base depth of BAMs on Spark, written as a coverage store.

The executors write the store; the driver moves only index rows (:mod:`..coverage.stages`):

1. one ``spark.range`` id per split, run by ``mapInArrow``: each task computes its split's
   depth and writes it as chunks into a part file of the store, returning index rows;
2. if some chunks got pieces from several tasks (split boundaries, several files), one
   more job of merge tasks sums them, each task owning a run of neighbouring chunks;
3. the driver writes the index and the manifest, last, and removes what no manifest names.

No shuffle; only DataFrame operations, so it runs under Spark Connect too.  The store
location must be reachable by the executors as by the driver (a shared filesystem or an
object store), as any Spark output is.
"""
from __future__ import annotations

import logging
import time
from functools import partial
from typing import List, Optional, Sequence

import pyarrow as pa

from ..config import parse_size
from ..coverage.blocks import DEFAULT_EXCLUDE_FLAGS, DepthFilter
from ..coverage.chunk_files import absolute_store_url
from ..coverage.compute import commit_plan, plan_coverage
from ..coverage.stages import merge_rows_column, share_merges, split_off_shared, split_rows_column
from ..coverage.store_commit import prepare_store
from ..coverage.store_index import row_schema, spark_row_schema
from ..formats import format_for
from ..formats.paths import PathsArgument, expand_paths
from ..formats.sizing import tasks_per_slot_split_size
from .slots import task_slots

log = logging.getLogger(__name__)
# The formats whose reads the depth kernels walk (BGZF record chains).
COVERAGE_FORMATS = ("bam",)
# Merge tasks per task slot (they are short: a few chunks each for one sorted BAM).
MERGE_TASKS_PER_SLOT = 2


def compute_coverage(spark, paths: PathsArgument, out: str, *, split_size=None, tracks: Sequence[str] = (),
                     min_mapq: int = 0, exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, require_flags: int = 0,
                     count_deletions: bool = False, use_splitting_index: bool = True,
                     storage_options: Optional[dict] = None, chunk_length: Optional[int] = None) -> dict:
    """Per-base depth of every contig of some BAMs, as ``samtools depth -a`` counts it, stored at ``out``.

    Depths of several BAMs are summed (contigs matched by name). Executors write the store's
    chunks; the driver writes only its index and manifest, last. DataFrame operations only,
    so it works over Spark Connect.

    Args:
        spark: a SparkSession (classic or Connect).
        paths: BAM files (a file, glob, directory or list; local or URL).
        out: the store: a local folder or fsspec URL, which the executors must reach too
            (they write the chunks). A store already at ``out`` is replaced.
        split_size: bytes per task; default two tasks per core, within 1..128 MiB.
        tracks: groupings beside ``all``: ``"strand"`` (``+``/``-``), ``"read_group"``
            (``rg:<ID>``), ``"sample"`` (``sample:<SM>``).
        min_mapq: skip reads below this mapping quality (``-Q``).
        exclude_flags: skip reads with any of these flags (default UNMAP|SECONDARY|QCFAIL|DUP).
        require_flags: count only reads with all of these flags.
        count_deletions: CIGAR D counts as covered (``-J``).
        use_splitting_index: use a current ``.sbi`` beside a BAM for exact splits.
        storage_options: fsspec options (credentials, endpoint) for ``out``.
        chunk_length: bases per stored chunk, a power of two (default: chosen from the tracks).

    Returns:
        The store's manifest (contigs, lengths, tracks, sources, filters, chunks, stored bytes).
    """
    depth_filter = DepthFilter(exclude_flags, require_flags, min_mapq, count_deletions)
    out = absolute_store_url(out)
    phases = {"started": time.perf_counter()}
    slots = task_slots(spark)
    size = partial(tasks_per_slot_split_size, slots=slots) if split_size is None else parse_size(split_size)
    coverage_format = format_for(paths, COVERAGE_FORMATS, "compute_coverage")
    files = expand_paths(paths, coverage_format.suffixes, coverage_format.title)
    plan = plan_coverage(files, groupings=tuple(tracks), depth_filter=depth_filter, split_size=size,
                         use_splitting_index=use_splitting_index, chunk_length=chunk_length)
    prepare_store(out, storage_options)
    phases["planned"] = time.perf_counter()
    rows: List[pa.RecordBatch] = []
    if plan.tasks:
        body = partial(split_rows_column, job=plan.job, tasks=plan.tasks, out=out, storage_options=storage_options)
        rows = _run(spark, len(plan.tasks), body)
    phases["split_tasks"] = time.perf_counter()
    whole, shared = split_off_shared(rows, plan.job)
    if shared:
        shares = share_merges(shared, MERGE_TASKS_PER_SLOT * (slots or 1))
        body = partial(merge_rows_column, job=plan.job, shares=shares, out=out, storage_options=storage_options)
        whole += _run(spark, len(shares), body)
    phases["merge_tasks"] = time.perf_counter()
    manifest = commit_plan(out, plan, whole, storage_options)
    phases["committed"] = time.perf_counter()
    _log_phases(phases, len(plan.tasks), len(shared))
    return manifest


def _run(spark, n_tasks: int, body) -> List[pa.RecordBatch]:
    """Run ``body`` over ids 0..n_tasks-1, one task each; the index rows they return."""
    ids = spark.range(0, n_tasks, 1, numPartitions=n_tasks)
    frame = ids.mapInArrow(body, spark_row_schema())
    if hasattr(frame, "toArrow"):  # Spark 4: Arrow all the way
        table = frame.toArrow()
        return [table.cast(row_schema()).combine_chunks().to_batches()[0]] if table.num_rows else []
    collected = frame.collect()  # Spark 3.5
    if not collected:
        return []
    columns = list(zip(*collected))
    return [pa.RecordBatch.from_arrays([pa.array(list(column), type=field.type) for column, field
                                        in zip(columns, row_schema())], schema=row_schema())]


def _log_phases(phases: dict, n_tasks: int, n_shared: int) -> None:
    """Wall seconds of each phase, at DEBUG (``extra["coverage_phases"]`` for tools)."""
    marks = list(phases.items())
    seconds = {name: round(at - marks[i][1], 3) for i, (name, at) in enumerate(marks[1:])}
    seconds["tasks"] = n_tasks
    seconds["shared_chunks"] = n_shared
    log.debug("coverage phases (wall s): %s", seconds, extra={"coverage_phases": seconds})
