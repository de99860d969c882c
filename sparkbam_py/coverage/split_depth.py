"""One split's depth: what a Spark task (or a local loop) computes from its byte range.

The task walks its records with :class:`~sparkbam_py.bam.splits.SplitReader` (start search,
boundary verification) and turns each batch into per-chunk depth events (:mod:`.partials`)
with the compiled kernel (:mod:`.depth_kernel`) or the numpy path (:mod:`.blocks`);
:mod:`.stages` writes them into the store as runs.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np
import pyarrow as pa

from ..bam.splits import SplitReader, SplitTask
from ..bam.decode import BatchDecoder, located_error
from ..bam.spans import MalformedRecord
from .blocks import DepthFilter, find_blocks, read_group_codes
from .depth_kernel import DepthParams, TrackMap, batch_events, compiled_depth_kernel
from .partials import PartialDepth
from .tracks import TrackLayout

@dataclass(frozen=True)
class CoverageJob:
    """Everything a task needs besides its split: filter, tracks, chunking, contig numbering."""

    depth_filter: DepthFilter
    layout: TrackLayout
    chunk_length: int
    contigs: Dict[str, Tuple[int, ...]]  # per path: store contig index of each of its ref ids
    lengths: Tuple[int, ...]  # per store contig

    @property
    def n_tracks(self) -> int:
        return len(self.layout.names)


def compute_split_depth(task: SplitTask, job: CoverageJob) -> PartialDepth:
    """The split's per-chunk depth events (contigs numbered as in the store).

    Batches go through the compiled kernel (:mod:`.depth_kernel`) unless the Python path
    is selected; records it leaves aside (long CIGARs, failed checks) through the numpy path.
    """
    partial = PartialDepth(job.chunk_length, job.n_tracks)
    contig_of_ref = np.asarray(job.contigs[task.path], dtype=np.int64)
    store_lengths = np.asarray(job.lengths, dtype=np.int64)
    file_tracks = job.layout.files.get(task.path)
    read_group_ids = file_tracks.read_group_ids if job.layout.needs_read_groups and file_tracks else None
    kernel = compiled_depth_kernel()
    with SplitReader(task) as split:
        names = pa.array(list(split.header.reference_names), type=pa.string())
        lengths = store_lengths[contig_of_ref] if len(contig_of_ref) else np.zeros(0, dtype=np.int64)
        numpy_path = functools.partial(_add_numpy_events, partial, task.path, job, contig_of_ref, names, lengths,
                                       read_group_ids)
        if kernel is None:
            for chunk in split.iter_chunks():
                numpy_path(chunk.run, chunk.offsets)
        else:
            _add_kernel_events(partial, kernel, split.iter_chunks(), numpy_path, task.path, job, contig_of_ref,
                               store_lengths, names, read_group_ids)
    return partial


def _add_numpy_events(partial: PartialDepth, path: str, job: CoverageJob, contig_of_ref, names, lengths,
                      read_group_ids, run, offsets: np.ndarray) -> None:
    try:
        kept = find_blocks(run.data, offsets, names, lengths, job.depth_filter,
                           None if read_group_ids is None else list(read_group_ids))
    except MalformedRecord as bad:
        raise located_error(bad, offsets, run.virtual_offsets(offsets), path) from None
    if not len(kept.blocks):
        return
    codes = kept.read_group_codes
    if codes is None:
        codes = np.full(len(kept.flags), -1, dtype=np.int64)
    tracks = job.layout.read_tracks(path, kept.flags, codes)
    blocks = kept.blocks
    partial.add_blocks(contig_of_ref[blocks.ref_id], blocks.start, blocks.end, tracks[blocks.read])


def _add_kernel_events(partial: PartialDepth, kernel, chunks, numpy_path, path: str, job: CoverageJob,
                       contig_of_ref, store_lengths, names, read_group_ids) -> None:
    depth_filter = job.depth_filter
    params = DepthParams(contig_of_ref, store_lengths, depth_filter.exclude_flags, depth_filter.require_flags,
                         depth_filter.min_mapq, depth_filter.count_deletions, job.chunk_length, job.n_tracks)
    strand, groups = job.layout.strand_tracks(), job.layout.group_tracks(path)
    no_codes = np.zeros(0, dtype=np.int64)
    keys, starts, ends = [], [], []
    for chunk in chunks:
        data, offsets = chunk.run.data, chunk.offsets
        codes = no_codes
        if groups.shape[1]:
            try:
                decoded = BatchDecoder(data, offsets, names, ())
                codes = read_group_codes(decoded, np.arange(len(offsets)), list(read_group_ids or ()))
            except MalformedRecord:
                numpy_path(chunk.run, offsets)  # raises the typed error naming the record
                continue
        events = batch_events(kernel, data, offsets, len(names), params, TrackMap(strand, groups, codes))
        if events.bad:
            numpy_path(chunk.run, offsets)  # raises the typed error naming the record
            continue
        keys.append(events.keys)
        starts.append(events.starts)
        ends.append(events.ends)
        if len(events.deferred):
            numpy_path(chunk.run, offsets[events.deferred])
    if keys:
        partial.add_keyed_events(np.concatenate(keys), np.concatenate(starts), np.concatenate(ends))
