"""The two kinds of task that write a store's chunks, for either driver.

1. A split task computes its split's depth (:mod:`.split_depth`) and writes it as runs
   (:func:`~.chunk_files.write_chunks`); it returns the index rows of its chunks.
2. Where several split tasks wrote pieces of one chunk (the chunks at split boundaries;
   every chunk when several files are summed), merge tasks each own a share of those
   chunks, read their pieces by byte range, and write the sums.

The driver only moves index rows: it collects them, hands each merge task its groups,
and commits (:mod:`.store_commit`).  ``*_column`` functions are ``mapInArrow`` bodies
over ``spark.range`` ids; :func:`~.compute.compute_coverage_local` calls the same
functions in a loop.
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence

import numpy as np
import pyarrow as pa

from ..bam.splits import SplitTask
from .chunk_files import MergeGroup, merge_pieces, pieces_to_merge, write_chunks
from .partials import chunk_sizes
from .split_depth import CoverageJob, compute_split_depth
from .store_index import row_schema

# A merge group's cost besides its pieces' bytes (opening, decoding): in bytes, for balancing.
GROUP_OVERHEAD_BYTES = 512


def split_rows(task: SplitTask, job: CoverageJob, out: str, storage_options: Optional[dict] = None) -> pa.RecordBatch:
    """Stage 1 for one split: its depth written as chunks; their index rows."""
    return write_chunks(compute_split_depth(task, job).iter_runs(job.lengths), out, storage_options)


def split_rows_column(batches: Iterator[pa.RecordBatch], job: CoverageJob, tasks: Sequence[SplitTask], out: str,
                      storage_options: Optional[dict] = None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for index in batch.column(0).to_pylist():
            yield split_rows(tasks[index], job, out, storage_options)


def merge_rows(groups: Sequence[MergeGroup], job: CoverageJob, out: str,
               storage_options: Optional[dict] = None) -> pa.RecordBatch:
    """Stage 2 for one share of the shared chunks: their sums written; their index rows."""
    if not groups:
        return pa.RecordBatch.from_pylist([], schema=row_schema())
    return merge_pieces(groups, out, job.n_tracks, job.chunk_length, storage_options)


def merge_rows_column(batches: Iterator[pa.RecordBatch], job: CoverageJob, shares: Sequence[Sequence[MergeGroup]],
                      out: str, storage_options: Optional[dict] = None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for index in batch.column(0).to_pylist():
            yield merge_rows(shares[index], job, out, storage_options)


def split_off_shared(rows: Sequence[pa.RecordBatch], job: CoverageJob):
    """(rows of chunks one task wrote whole, groups of pieces of the shared ones)."""
    def size(key: int) -> int:
        return int(chunk_sizes(np.array([key], dtype=np.int64), job.lengths, job.chunk_length)[0])

    return pieces_to_merge(rows, size)


def share_merges(groups: Sequence[MergeGroup], tasks: int) -> List[List[MergeGroup]]:
    """``groups`` in at most ``tasks`` runs of neighbouring chunks with about equal bytes to read."""
    if not groups:
        return []
    cost = np.cumsum([GROUP_OVERHEAD_BYTES + sum(piece.nbytes for piece in group.pieces) for group in groups])
    tasks = max(1, min(tasks, len(groups)))
    cuts = np.searchsorted(cost, cost[-1] * np.arange(1, tasks) / tasks, side="right")
    bounds = [0, *cuts.tolist(), len(groups)]
    return [list(groups[lo:hi]) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
