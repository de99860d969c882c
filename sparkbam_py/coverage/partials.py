"""One split's depth as change events over fixed-length chunks of each contig.

A covered block ``[s, e)`` adds +1 at ``s`` and -1 at ``e``; the depth is the running sum.
Blocks are cut at chunk boundaries, so every chunk's events are self-contained: its depth
is the running sum of its own events, whatever other chunks hold.  A task keeps only the
events (two per block and track), never a dense array per contig, so its memory follows
its reads, not the genome (a 250 Mbp contig needs no 250 M-element array); at the end
they become runs per chunk (:mod:`.runs`), the form the store keeps, a batch of chunks at
a time.

Events are kept as flat arrays: per block piece the chunk's key ``contig << 32 | chunk``,
and uint32 start and end keys ``offset_in_chunk * n_tracks + track``; chunks are sized so
that every key fits (see :func:`chunk_length_for`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, List, Sequence

import numpy as np

from .runs import ChunkRuns, iter_runs_from_events

# Chunks are at most 2^16 bases (run offsets fit uint16), fewer when many tracks would
# make a dense chunk (bases x tracks int64 cells while building it) larger than 8 MiB.
MAX_CHUNK_LENGTH = 1 << 16
DENSE_CHUNK_CELLS = 1 << 20
MIN_CHUNK_LENGTH = 1 << 10


def chunk_length_for(n_tracks: int, cells: int = DENSE_CHUNK_CELLS) -> int:
    """Bases per chunk for ``n_tracks`` tracks: a power of two in ``MIN..MAX_CHUNK_LENGTH``."""
    length = cells // max(1, n_tracks)
    return min(MAX_CHUNK_LENGTH, max(MIN_CHUNK_LENGTH, 1 << max(0, length.bit_length() - 1)))


def chunk_sizes(keys: np.ndarray, contig_lengths: Sequence[int], chunk_length: int) -> np.ndarray:
    """Bases in each chunk ``contig << 32 | chunk``: ``chunk_length``, less at a contig's end."""
    lengths = np.asarray(contig_lengths, dtype=np.int64)
    first = (keys & 0xFFFFFFFF) * chunk_length
    return np.minimum(chunk_length, lengths[keys >> 32] - first)


@dataclass
class PartialDepth:
    """Events gathered from one split (or several), as flat arrays."""

    chunk_length: int
    n_tracks: int
    _keys: List[np.ndarray] = field(default_factory=list)
    _starts: List[np.ndarray] = field(default_factory=list)
    _ends: List[np.ndarray] = field(default_factory=list)

    def add_keyed_events(self, keys: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Event pairs: chunk key (``contig << 32 | chunk``), start key, end key, any order."""
        if len(keys):
            self._keys.append(np.asarray(keys, np.int64))
            self._starts.append(np.asarray(starts, np.uint32))
            self._ends.append(np.asarray(ends, np.uint32))

    def add_blocks(self, ref_id, start, end, tracks) -> None:
        """Blocks ``[start, end)`` of store contig ``ref_id`` (``tracks``: one row of track
        indexes per block), cut into per-chunk pieces."""
        if not len(start):
            return
        length = self.chunk_length
        first, last = start // length, (end - 1) // length
        pieces = last - first + 1
        block = np.repeat(np.arange(len(start)), pieces)
        # Piece k of a block lies in chunk first + k.
        k = np.arange(len(block)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        chunk = first[block] + k
        chunk_start = chunk * length
        piece_start = np.maximum(start[block], chunk_start) - chunk_start
        piece_end = np.minimum(end[block], chunk_start + length) - chunk_start
        piece_tracks = tracks[block]
        keys = np.repeat((ref_id[block].astype(np.int64) << 32) | chunk, piece_tracks.shape[1])
        self.add_keyed_events(keys, (piece_start[:, None] * self.n_tracks + piece_tracks).ravel(),
                              (piece_end[:, None] * self.n_tracks + piece_tracks).ravel())

    def events(self):
        """``(keys, start keys, end keys)``: every event pair gathered, in the order added."""
        if not self._keys:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        return np.concatenate(self._keys), np.concatenate(self._starts), np.concatenate(self._ends)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys)

    def iter_runs(self, contig_lengths: Sequence[int]) -> Iterator[ChunkRuns]:
        """Runs of every chunk with events, a batch of chunks at a time (``contig_lengths``:
        bases of each store contig)."""
        if not self._keys:
            return
        keys = np.concatenate(self._keys)
        starts, ends = np.concatenate(self._starts), np.concatenate(self._ends)
        if np.any(keys[1:] < keys[:-1]):  # a sorted BAM's come sorted already
            order = np.argsort(keys, kind="stable")
            keys, starts, ends = keys[order], starts[order], ends[order]
        new = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        bounds = np.concatenate([[0], new, [len(keys)]])
        unique = keys[bounds[:-1]]
        yield from iter_runs_from_events(unique, chunk_sizes(unique, contig_lengths, self.chunk_length),
                                         self.n_tracks, self.chunk_length, bounds, starts, ends)
