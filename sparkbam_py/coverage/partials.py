"""Depth as difference arrays over fixed-length chunks of each contig.

A covered block ``[s, e)`` adds +1 at ``s`` and -1 at ``e``; the depth is the running sum.
Blocks are cut at chunk boundaries, so every chunk's events are self-contained: its depth
is the running sum of its own events, whatever other chunks hold.  A task keeps only the
events (two per block and track), never a dense array per contig, so its memory follows
its reads, not the genome (a 250 Mbp contig needs no 250 M-element array).  Partials of
one chunk from different splits and files are summed by concatenating their events.

An event is stored as one uint32 key ``offset_in_chunk * n_tracks + track``; chunks are
sized so that every key fits (see :func:`chunk_length_for`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Tuple

import numpy as np

# Dense chunk depth is (chunk_length + 1) x n_tracks int64 while merging: keep it near 8 MiB.
DENSE_CHUNK_CELLS = 1 << 20
MIN_CHUNK_LENGTH = 1 << 12
ChunkKey = Tuple[int, int]  # (ref_id, chunk index)


def chunk_length_for(n_tracks: int, cells: int = DENSE_CHUNK_CELLS) -> int:
    """Bases per chunk for ``n_tracks`` tracks: a power of two, at least ``MIN_CHUNK_LENGTH``."""
    length = cells // max(1, n_tracks)
    return max(MIN_CHUNK_LENGTH, 1 << max(0, length.bit_length() - 1))


@dataclass(frozen=True)
class ChunkEvents:
    """Events of one or more pieces of one chunk: +1 keys and -1 keys."""

    starts: np.ndarray  # uint32
    ends: np.ndarray  # uint32


def split_into_chunks(ref_id, start, end, tracks, chunk_length: int, n_tracks: int) -> Iterator[Tuple[ChunkKey, ChunkEvents]]:
    """Cut blocks (``tracks``: one row of track indexes per block) into per-chunk events."""
    if not len(start):
        return
    first, last = start // chunk_length, (end - 1) // chunk_length
    pieces = last - first + 1
    block = np.repeat(np.arange(len(start)), pieces)
    # Piece k of a block lies in chunk first + k.
    k = np.arange(len(block)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    chunk = first[block] + k
    chunk_start = chunk * chunk_length
    piece_start = np.maximum(start[block], chunk_start) - chunk_start
    piece_end = np.minimum(end[block], chunk_start + chunk_length) - chunk_start
    piece_tracks = tracks[block]
    start_keys = (piece_start[:, None] * n_tracks + piece_tracks).astype(np.uint32)
    end_keys = (piece_end[:, None] * n_tracks + piece_tracks).astype(np.uint32)
    group = (ref_id[block] << 32) | chunk
    order = np.argsort(group, kind="stable")
    group = group[order]
    bounds = np.flatnonzero(np.diff(group)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(group)]):
        key = int(group[lo])
        rows = order[lo:hi]
        yield (key >> 32, key & 0xFFFFFFFF), ChunkEvents(start_keys[rows].ravel(), end_keys[rows].ravel())


@dataclass
class PartialDepth:
    """Events gathered per chunk (one split's, or many merged)."""

    chunk_length: int
    n_tracks: int
    chunks: Dict[ChunkKey, List[ChunkEvents]] = field(default_factory=lambda: defaultdict(list))

    def add(self, key: ChunkKey, events: ChunkEvents) -> None:
        self.chunks[key].append(events)

    def add_blocks(self, ref_id, start, end, tracks) -> None:
        for key, events in split_into_chunks(ref_id, start, end, tracks, self.chunk_length, self.n_tracks):
            self.add(key, events)

    def add_keyed_events(self, keys: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Events tagged ``contig << 32 | chunk`` (the compiled kernel's output), in any order."""
        if not len(keys):
            return
        if not np.all(keys[1:] >= keys[:-1]):  # a sorted BAM's are sorted already
            order = np.argsort(keys, kind="stable")
            keys, starts, ends = keys[order], starts[order], ends[order]
        bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(keys)]):
            key = int(keys[lo])
            self.add((key >> 32, key & 0xFFFFFFFF), ChunkEvents(starts[lo:hi], ends[lo:hi]))

    def merged(self) -> Iterator[Tuple[ChunkKey, ChunkEvents]]:
        """Each chunk once, in (ref_id, chunk) order, its events concatenated."""
        for key in sorted(self.chunks):
            yield key, concatenate_events(self.chunks[key])


def concatenate_events(parts: Iterable[ChunkEvents]) -> ChunkEvents:
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    return ChunkEvents(np.concatenate([p.starts for p in parts]), np.concatenate([p.ends for p in parts]))


def dense_depth(events: ChunkEvents, chunk_length: int, n_tracks: int) -> np.ndarray:
    """The chunk's depth, ``(chunk_length, n_tracks)`` int64, from its events."""
    cells = (chunk_length + 1) * n_tracks
    delta = np.bincount(events.starts, minlength=cells) - np.bincount(events.ends, minlength=cells)
    return np.cumsum(delta.reshape(chunk_length + 1, n_tracks)[:chunk_length], axis=0)
