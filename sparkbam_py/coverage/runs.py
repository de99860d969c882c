"""Chunks of coverage as runs of equal value, built for many chunks at once.

A chunk covers ``chunk_length`` bases of one contig (fewer for a contig's last chunk: its
``size``).  Each of its tracks is a list of runs: the offset where each run starts (the
first at 0) and the run's value; a run lasts until the next one starts, or the chunk ends.
Depth changes only where reads start and end, so runs are what per-base coverage is made
of (a 30x chunk holds about one run per three bases, a sparse one a few dozen runs), and
what bedGraph and bigWig list.

:class:`ChunkRuns` holds the runs of many chunks in flat arrays, so that building them,
summarising them and encoding them is a handful of numpy passes, not a loop per base.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

# A chunk whose change events fill at least this share of its cells is built densely
# (one bincount over its cells); sparser ones share one sort with every other sparse chunk.
DENSE_EVENT_SHARE = 1 / 16
DENSE_BATCH = 16  # heavy chunks built together: their runs are what a task holds at once


@dataclass(frozen=True)
class ChunkRuns:
    """Runs of ``len(keys)`` chunks x ``n_tracks`` tracks; group ``g = chunk * n_tracks + track``."""

    keys: np.ndarray  # int64 per chunk: contig << 32 | chunk index, ascending
    sizes: np.ndarray  # int64 per chunk: its bases (the contig's last chunk may be short)
    n_tracks: int
    run_offsets: np.ndarray  # int64, groups + 1: group g's runs are rows run_offsets[g]:run_offsets[g + 1]
    starts: np.ndarray  # int64 offset in the chunk where each run starts
    values: np.ndarray  # int64 or float64

    def __len__(self) -> int:
        return len(self.keys)

    def group_slice(self, chunk: int) -> slice:
        """The rows of chunk ``chunk`` (all its tracks, in track order)."""
        return slice(int(self.run_offsets[chunk * self.n_tracks]), int(self.run_offsets[(chunk + 1) * self.n_tracks]))

    def runs_per_group(self) -> np.ndarray:
        return np.diff(self.run_offsets).reshape(len(self.keys), self.n_tracks)

    def lengths(self) -> np.ndarray:
        """Bases in each run."""
        ends = np.empty_like(self.starts)
        ends[:-1] = self.starts[1:]
        last = self.run_offsets[1:] - 1
        ends[last[last >= 0]] = np.repeat(self.sizes, self.n_tracks)[last >= 0]
        return ends - self.starts

    def summaries(self):
        """(sums, minima, maxima), each ``(chunks, tracks)``: what range queries and the index need."""
        groups = len(self.keys) * self.n_tracks
        rows = np.repeat(np.arange(groups), np.diff(self.run_offsets))
        kind = np.float64 if self.values.dtype.kind == "f" else np.int64
        sums = np.zeros(groups, dtype=kind)
        np.add.at(sums, rows, self.values * self.lengths())
        first = self.run_offsets[:-1]
        minima = np.minimum.reduceat(self.values, first) if len(self.values) else np.zeros(0, kind)
        maxima = np.maximum.reduceat(self.values, first) if len(self.values) else np.zeros(0, kind)
        shape = (len(self.keys), self.n_tracks)
        return sums.reshape(shape), minima.reshape(shape).astype(kind), maxima.reshape(shape).astype(kind)


def _grouped(keys, sizes, n_tracks, group, starts, values) -> ChunkRuns:
    """Runs from rows sorted by (group, start) with every group's first row at start 0:
    repeated values are dropped (a run continues) and so are starts past the chunk's end."""
    new_group = np.ones(len(group), dtype=bool)
    new_group[1:] = group[1:] != group[:-1]
    keep = new_group.copy()
    keep[1:] |= values[1:] != values[:-1]
    keep &= starts < np.repeat(sizes, n_tracks)[group]
    group, starts, values = group[keep], starts[keep], values[keep]
    counts = np.bincount(group, minlength=len(keys) * n_tracks)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ChunkRuns(np.asarray(keys, np.int64), np.asarray(sizes, np.int64), n_tracks, offsets, starts, values)


def _depth_rows(index: int, depth: np.ndarray, n_tracks: int):
    """(group, start, value) rows of one chunk from its dense ``(tracks, bases)`` depth."""
    change = np.ones(depth.shape, dtype=bool)
    change[:, 1:] = depth[:, 1:] != depth[:, :-1]
    track, start = np.nonzero(change)
    return index * n_tracks + track, start, depth[track, start]


def _combine(keys, sizes, n_tracks: int, parts) -> ChunkRuns:
    """Runs from per-chunk row sets, each sorted by (group, start), in any order of chunks."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        empty = np.zeros(0, np.int64)
        return _grouped(keys, sizes, n_tracks, empty, empty, empty)
    group, starts, values = (np.concatenate(column) for column in zip(*parts))
    if np.any(group[1:] < group[:-1]):
        order = np.argsort(group, kind="stable")  # a merge of sorted runs: linear
        group, starts, values = group[order], starts[order], values[order]
    return _grouped(keys, sizes, n_tracks, group, starts.astype(np.int64, copy=False), values)


def runs_from_dense(keys, sizes, blocks) -> ChunkRuns:
    """Runs of chunks given as dense ``(size, tracks)`` arrays (``blocks``, one per key)."""
    n_tracks = blocks[0].shape[1] if len(blocks) else 1
    kind = np.float64 if any(np.asarray(block).dtype.kind == "f" for block in blocks) else np.int64
    parts = [_depth_rows(index, np.ascontiguousarray(np.asarray(block, dtype=kind).T), n_tracks)
             for index, block in enumerate(blocks)]
    return _combine(keys, sizes, n_tracks, parts)


def iter_runs_from_events(keys, sizes, n_tracks: int, chunk_length: int, bounds, start_cells, end_cells,
                          batch: int = DENSE_BATCH) -> Iterator[ChunkRuns]:
    """Runs from read events grouped by chunk: chunk ``i``'s blocks are rows
    ``bounds[i]:bounds[i + 1]`` of ``start_cells`` and ``end_cells`` (``offset * n_tracks + track``
    where a block starts, adding 1, and ends, taking 1 away).  Yields the heavy chunks
    ``batch`` at a time, then all the light ones together, so that memory holds the events
    and one batch of runs, not the runs of the whole split."""
    keys, sizes = np.asarray(keys, np.int64), np.asarray(sizes, np.int64)
    counts = np.diff(bounds)
    dense = 2 * counts >= DENSE_EVENT_SHARE * chunk_length * n_tracks
    cells = (chunk_length + 1) * n_tracks
    heavy = np.flatnonzero(dense)
    for first in range(0, len(heavy), batch):
        chosen = heavy[first:first + batch]
        parts = []
        for number, index in enumerate(chosen):
            lo, hi = bounds[index], bounds[index + 1]
            steps = np.bincount(start_cells[lo:hi], minlength=cells) - np.bincount(end_cells[lo:hi], minlength=cells)
            depth = np.cumsum(steps.reshape(chunk_length + 1, n_tracks)[:chunk_length], axis=0)
            parts.append(_depth_rows(number, np.ascontiguousarray(depth.T), n_tracks))
        yield _combine(keys[chosen], sizes[chosen], n_tracks, parts)
    light = np.flatnonzero(~dense)
    if len(light):
        sparse = np.repeat(~dense, counts)
        renumbered = np.cumsum(~dense) - 1  # chunk number among the light ones
        chunk = np.repeat(renumbered, counts)[sparse]
        both = np.concatenate([start_cells[sparse], end_cells[sparse]]).astype(np.int64)
        steps = np.repeat(np.array([1, -1], dtype=np.int64), len(chunk))
        chunk = np.concatenate([chunk, chunk])
        rows = _sparse_rows(np.arange(len(light)), chunk * n_tracks + both % n_tracks, both // n_tracks, steps,
                            n_tracks)
        yield _combine(keys[light], sizes[light], n_tracks, [rows])


def runs_from_changes(keys, sizes, n_tracks: int, chunk, track, position, delta, chunk_length: int) -> ChunkRuns:
    """Runs of integer tracks from changes in any order: ``delta`` added at ``position`` of
    (``chunk``, ``track``), every track starting at 0 (the steps of pieces of one chunk
    that are being summed)."""
    keys, sizes = np.asarray(keys, np.int64), np.asarray(sizes, np.int64)
    chunk, delta = np.asarray(chunk, np.int64), np.asarray(delta, np.int64)
    track, position = np.asarray(track, np.int64), np.asarray(position, np.int64)
    counts = np.bincount(chunk, minlength=len(keys))
    dense = counts >= DENSE_EVENT_SHARE * chunk_length * n_tracks
    order = np.argsort(chunk, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    cells = n_tracks * (chunk_length + 1)
    parts = []
    for index in np.flatnonzero(dense):
        rows = order[bounds[index]:bounds[index + 1]]
        steps = np.bincount(track[rows] * (chunk_length + 1) + position[rows], weights=delta[rows], minlength=cells)
        depth = np.cumsum(steps.astype(np.int64).reshape(n_tracks, chunk_length + 1)[:, :chunk_length], axis=1)
        parts.append(_depth_rows(index, depth, n_tracks))
    sparse = ~dense[chunk]
    parts.append(_sparse_rows(np.flatnonzero(~dense), chunk[sparse] * n_tracks + track[sparse], position[sparse],
                              delta[sparse], n_tracks))
    return _combine(keys, sizes, n_tracks, parts)


def _sparse_rows(chunks, group, position, delta, n_tracks):
    """(group, start, value) rows for chunks with few events: one sort for all of them."""
    leading = (chunks[:, None] * n_tracks + np.arange(n_tracks)).reshape(-1)  # every group starts at 0 with 0
    group = np.concatenate([leading, group])
    position = np.concatenate([np.zeros(len(leading), np.int64), position])
    delta = np.concatenate([np.zeros(len(leading), np.int64), delta])
    order = np.lexsort((position, group))
    group, position, delta = group[order], position[order], delta[order]
    first = np.ones(len(group), dtype=bool)
    first[1:] = (group[1:] != group[:-1]) | (position[1:] != position[:-1])
    at = np.flatnonzero(first)
    net = np.add.reduceat(delta, at) if len(at) else delta[:0]
    group, position = group[at], position[at]
    total = np.cumsum(net)
    group_start = np.ones(len(group), dtype=bool)
    group_start[1:] = group[1:] != group[:-1]
    # Value after each change: the running sum of its group's net changes, that is the
    # running sum of all changes less what it was just before the group's first row.
    first_of_group = np.maximum.accumulate(np.where(group_start, np.arange(len(group)), 0))
    return group, position, total - (total - net)[first_of_group]


def runs_from_intervals(contig_lengths, chunk_length: int, n_tracks: int, contig, track, start, end,
                        value) -> ChunkRuns:
    """Runs from intervals ``[start, end)`` of ``value`` (int or float) on (``contig``,
    ``track``), zero elsewhere; intervals of one track must not overlap (bedGraph lines,
    or per-base values as intervals of one base)."""
    contig, track = np.asarray(contig, np.int64), np.asarray(track, np.int64)
    start, end, value = np.asarray(start, np.int64), np.asarray(end, np.int64), np.asarray(value)
    first, last = start // chunk_length, (end - 1) // chunk_length
    pieces = last - first + 1
    interval = np.repeat(np.arange(len(start)), pieces)
    chunk = first[interval] + np.arange(len(interval)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    base = chunk * chunk_length
    key = (contig[interval] << 32) | chunk
    keys, index = np.unique(key, return_inverse=True)
    sizes = np.minimum(chunk_length, np.asarray(contig_lengths, np.int64)[keys >> 32] - (keys & 0xFFFFFFFF) * chunk_length)
    group = index * n_tracks + track[interval]
    leading = np.arange(len(keys) * n_tracks)
    # Rows (group, position, value, rank): every group starts at 0 with 0; an interval's end
    # falls back to 0 unless the next interval starts there (higher rank wins a tie).
    group = np.concatenate([leading, group, group])
    position = np.concatenate([np.zeros(len(leading), np.int64), np.maximum(start[interval], base) - base,
                               np.minimum(end[interval], base + chunk_length) - base])
    values = np.concatenate([np.zeros(len(leading), value.dtype), value[interval], np.zeros(len(interval), value.dtype)])
    rank = np.concatenate([np.zeros(len(leading)), np.full(len(interval), 2), np.ones(len(interval))])
    order = np.lexsort((rank, position, group))
    group, position, values = group[order], position[order], values[order]
    last_of_tie = np.ones(len(group), dtype=bool)
    last_of_tie[:-1] = (group[1:] != group[:-1]) | (position[1:] != position[:-1])
    kind = np.float64 if values.dtype.kind == "f" else np.int64
    return _grouped(keys, sizes, n_tracks, group[last_of_tie], position[last_of_tie], values[last_of_tie].astype(kind))
