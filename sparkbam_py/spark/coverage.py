"""``compute_coverage``: per-base depth of BAMs on Spark, written as a coverage store.

Each split is one ``mapInArrow`` task (the same task code as the local driver,
:mod:`sparkbam_py.coverage.split_depth`) returning per-chunk difference events.  The rows
are hash-partitioned by contig and sorted within partitions, so each contig's partials
arrive at the driver together and in chunk order (``toLocalIterator``: one partition in
memory at a time); the driver sums the partials of each chunk and streams the contig to
the store.  Only DataFrame operations are used, so it runs under Spark Connect too.
"""
from __future__ import annotations

import pickle
from functools import partial
from typing import Iterator, Optional, Sequence

from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..coverage.blocks import DEFAULT_EXCLUDE_FLAGS, DepthFilter
from ..coverage.compute import MergedRow, plan_coverage, write_store
from ..coverage.split_depth import PARTIALS_SPARK_SCHEMA, depth_task_column, events_of_row
from .paths import PathsArgument, expand_paths


def compute_coverage(spark, paths: PathsArgument, out: str, *, split_size=None, tracks: Sequence[str] = (),
                     min_mapq: int = 0, exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, require_flags: int = 0,
                     count_deletions: bool = False, use_splitting_index: bool = True,
                     storage_options: Optional[dict] = None) -> dict:
    """Per-base depth of every contig of ``paths``, as ``samtools depth -a`` counts it, stored at ``out``.

    ``tracks`` adds groupings beside ``all``: ``"strand"`` (``+``/``-``), ``"read_group"``
    (``rg:<ID>``), ``"sample"`` (``sample:<SM>``).  ``min_mapq`` (``-Q``), ``exclude_flags``
    (``-G``; default UNMAP|SECONDARY|QCFAIL|DUP), ``require_flags`` and ``count_deletions``
    (``-J``) filter as samtools does.  ``out`` is a local folder or fsspec URL.  Returns
    the store's manifest.
    """
    depth_filter = DepthFilter(exclude_flags, require_flags, min_mapq, count_deletions)
    size = DEFAULT_SPLIT_SIZE if split_size is None else parse_size(split_size)
    plan = plan_coverage(expand_paths(paths), groupings=tuple(tracks), depth_filter=depth_filter,
                         split_size=size, use_splitting_index=use_splitting_index)
    rows = [(index, pickle.dumps(task)) for index, task in enumerate(plan.tasks)]
    n_tasks = max(1, len(rows))
    tasks = (spark.createDataFrame(rows, "task_index int, task binary")
             .repartitionByRange(n_tasks, "task_index"))
    partials = tasks.mapInArrow(partial(depth_task_column, job=plan.job), PARTIALS_SPARK_SCHEMA)
    n_contigs = max(1, len(plan.contigs))
    grouped = partials.repartition(min(n_tasks, n_contigs), "contig").sortWithinPartitions("contig", "chunk")
    return write_store(out, plan, _rows(grouped.toLocalIterator()), storage_options)


def _rows(collected) -> Iterator[MergedRow]:
    for row in collected:
        yield row["contig"], row["chunk"], events_of_row(row["starts"], row["ends"])
