"""``compute_coverage``: per-base depth of BAMs on Spark, written as a coverage store.

One ``spark.range`` id per split, run by ``mapInArrow`` (the same task code as the local
driver, :mod:`sparkbam_py.coverage.split_depth`): each task writes its per-chunk difference
events to a scratch folder in the store and returns small index rows
(:mod:`sparkbam_py.coverage.partial_files`).  The driver collects the index, then sums each
chunk's pieces from the files and streams the contigs to the store.  One Spark job, no
shuffle; only DataFrame operations are used, so it runs under Spark Connect too.
"""
from __future__ import annotations

import logging
import time
from functools import partial
from typing import Optional, Sequence

from ..config import parse_size
from ..coverage.blocks import DEFAULT_EXCLUDE_FLAGS, DepthFilter
from ..coverage.compute import plan_coverage, write_store
from ..coverage.partial_files import (PIECES_SPARK_SCHEMA, new_partials_folder, pieces_of_rows, read_merged,
                                      remove_folder)
from ..coverage.split_depth import pieces_task_column
from ..formats import format_for
from ..formats.paths import PathsArgument, expand_paths
from ..formats.sizing import tasks_per_slot_split_size
from .slots import task_slots

log = logging.getLogger(__name__)
# The formats whose reads the depth kernels walk (BGZF record chains).
COVERAGE_FORMATS = ("bam",)


def compute_coverage(spark, paths: PathsArgument, out: str, *, split_size=None, tracks: Sequence[str] = (),
                     min_mapq: int = 0, exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, require_flags: int = 0,
                     count_deletions: bool = False, use_splitting_index: bool = True,
                     storage_options: Optional[dict] = None) -> dict:
    """Per-base depth of every contig of some BAMs, as ``samtools depth -a`` counts it, stored at ``out``.

    Depths of several BAMs are summed (contigs matched by name). One Spark job, no shuffle;
    DataFrame operations only, so it works over Spark Connect.

    Args:
        spark: a SparkSession (classic or Connect).
        paths: BAM files (a file, glob, directory or list; local or URL).
        out: the store: a local folder or fsspec URL, which the executors must reach too
            (they leave their partial depths there).
        split_size: bytes per task; default two tasks per core, within 1..128 MiB.
        tracks: groupings beside ``all``: ``"strand"`` (``+``/``-``), ``"read_group"``
            (``rg:<ID>``), ``"sample"`` (``sample:<SM>``).
        min_mapq: skip reads below this mapping quality (``-Q``).
        exclude_flags: skip reads with any of these flags (default UNMAP|SECONDARY|QCFAIL|DUP).
        require_flags: count only reads with all of these flags.
        count_deletions: CIGAR D counts as covered (``-J``).
        use_splitting_index: use a current ``.sbi`` beside a BAM for exact splits.
        storage_options: fsspec options (credentials, endpoint) for ``out``.

    Returns:
        The store's manifest (contigs, lengths, tracks, sources, filters).
    """
    depth_filter = DepthFilter(exclude_flags, require_flags, min_mapq, count_deletions)
    phases = {"started": time.perf_counter()}
    if split_size is None:
        size = partial(tasks_per_slot_split_size, slots=task_slots(spark))
    else:
        size = parse_size(split_size)
    coverage_format = format_for(paths, COVERAGE_FORMATS, "compute_coverage")
    files = expand_paths(paths, coverage_format.suffixes, coverage_format.title)
    plan = plan_coverage(files, groupings=tuple(tracks), depth_filter=depth_filter, split_size=size,
                         use_splitting_index=use_splitting_index)
    phases["planned"] = time.perf_counter()
    folder = new_partials_folder(out)
    try:
        pieces = []
        if plan.tasks:
            ids = spark.range(0, len(plan.tasks), 1, numPartitions=len(plan.tasks))
            body = partial(pieces_task_column, job=plan.job, tasks=plan.tasks, folder=folder,
                           storage_options=storage_options)
            pieces = pieces_of_rows(ids.mapInArrow(body, PIECES_SPARK_SCHEMA).collect())
        phases["tasks_done"] = time.perf_counter()
        manifest = write_store(out, plan, read_merged(folder, pieces, storage_options), storage_options)
        phases["stored"] = time.perf_counter()
        return manifest
    finally:
        remove_folder(folder, storage_options)
        _log_phases(phases, len(plan.tasks))


def _log_phases(phases: dict, n_tasks: int) -> None:
    """Wall seconds of each phase, at DEBUG (``extra["coverage_phases"]`` for tools)."""
    marks = list(phases.items())
    seconds = {name: round(at - marks[i][1], 3) for i, (name, at) in enumerate(marks[1:])}
    seconds["tasks"] = n_tasks
    log.debug("coverage phases (wall s): %s", seconds, extra={"coverage_phases": seconds})
