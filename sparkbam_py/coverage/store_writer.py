"""Writing a store in this process from per-base values (what the importers have).

Values arrive per contig as dense slabs (``(first base, bases x tracks array)``, in
ascending order), as intervals of one value (bedGraph lines) or as values at sparse
positions; they are cut into chunks, turned into runs (:mod:`.runs`) and written by the
same code the Spark tasks use (:func:`~.chunk_files.write_chunks`), a part file per
``CELLS_PER_PART`` dense values or ``INTERVALS_PER_PART`` intervals, so that memory stays
bounded whatever the contig's length.  Each contig is given once.  :meth:`StoreWriter.close` commits
(:func:`~.store_commit.commit_store`): the manifest goes last.
"""
from __future__ import annotations

import os
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from .chunk_files import write_chunks
from .partials import MAX_CHUNK_LENGTH
from .runs import runs_from_dense, runs_from_intervals
from .store_commit import commit_store, prepare_store

# What is gathered before it is written as one part file: bounds the writer's memory.
CELLS_PER_PART = 1 << 24  # dense values (bases x tracks): 128 MiB
INTERVALS_PER_PART = 1 << 22


class StoreWriter:
    """Writes contigs in any order, then commits (``close``): a store without a manifest is unfinished.

    Values are kept as float64 (``float_values``, what imports hold) or as integers, which
    must then be integral: a float slab is cast, so pass integers.
    """

    def __init__(self, url: str, contigs: Sequence[Tuple[str, int]], tracks: Sequence[str], *,
                 metadata: Optional[dict] = None, storage_options: Optional[dict] = None,
                 float_values: bool = True, chunk_length: int = MAX_CHUNK_LENGTH):
        if not tracks:
            raise ConfigError("a coverage store needs at least one track", url)
        self.url = os.fspath(url)
        self.contigs, self.tracks = list(contigs), list(tracks)
        self.metadata, self.storage_options = dict(metadata or {}), storage_options
        self.chunk_length, self.float_values = chunk_length, float_values
        self.rows: List[pa.RecordBatch] = []
        self._pending: List[Tuple[int, np.ndarray]] = []  # (key, dense chunk)
        self._intervals: List[Tuple[np.ndarray, ...]] = []  # (contig, track, start, end, value)
        self._pending_cells = self._pending_intervals = 0
        prepare_store(self.url, storage_options)

    def write_contig(self, index: int, slabs: Iterable[Tuple[int, np.ndarray]]) -> None:
        """Contig ``index`` from ``(first base, bases x tracks)`` slabs in ascending order; bases not given are 0."""
        name, length = self.contigs[index]
        current, buffer, done_to = -1, None, 0
        for first, values in slabs:
            values = np.asarray(values)
            values = values[:, None] if values.ndim == 1 else values
            if first < done_to or values.shape[1] != len(self.tracks) or first + len(values) > length:
                raise ConfigError(f"slab at base {first} of shape {values.shape} does not fit contig {name} "
                                  f"({length} bases, {len(self.tracks)} tracks) after base {done_to}", self.url)
            if not len(values):
                continue
            for chunk in range(first // self.chunk_length, (first + len(values) - 1) // self.chunk_length + 1):
                if chunk != current:
                    self._add(index, current, buffer)
                    current, buffer = chunk, self._zeros(length, chunk)
                base = chunk * self.chunk_length
                lo, hi = max(first, base), min(first + len(values), base + self.chunk_length)
                buffer[lo - base:hi - base] = values[lo - first:hi - first]
            done_to = first + len(values)
        self._add(index, current, buffer)

    def write_sparse_contig(self, index: int, positions: np.ndarray, values: np.ndarray) -> None:
        """Contig ``index`` as values (rows x tracks) at ascending, distinct ``positions`` only."""
        name, length = self.contigs[index]
        positions = np.asarray(positions, dtype=np.int64)
        values = np.asarray(values).reshape(len(positions), len(self.tracks))
        if len(positions) and (positions[0] < 0 or positions[-1] >= length or np.any(np.diff(positions) <= 0)):
            raise ConfigError(f"positions of contig {name} must ascend strictly inside 0..{length - 1}", self.url)
        tracks = np.tile(np.arange(len(self.tracks)), len(positions))
        at = np.repeat(positions, len(self.tracks))
        self.write_intervals(index, at, at + 1, values.reshape(-1), tracks)

    def write_intervals(self, index: int, starts: np.ndarray, ends: np.ndarray, values: np.ndarray,
                        tracks: Optional[np.ndarray] = None) -> None:
        """Contig ``index`` as ``values`` over ``[starts, ends)`` of ``tracks`` (default: the
        first), zero elsewhere; one track's intervals must not overlap.  Memory follows the
        intervals, not the contig."""
        name, length = self.contigs[index]
        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        if len(starts) and (starts.min() < 0 or ends.max() > length or np.any(ends <= starts)):
            raise ConfigError(f"intervals of contig {name} must be non-empty and inside 0..{length}", self.url)
        tracks = np.zeros(len(starts), np.int64) if tracks is None else np.asarray(tracks, np.int64)
        kind = np.float64 if self.float_values else np.int64
        self._intervals.append((np.full(len(starts), index), tracks, starts, ends, np.asarray(values).astype(kind)))
        self._pending_intervals += len(starts)
        if self._pending_intervals >= INTERVALS_PER_PART:
            self._flush()

    def _zeros(self, length: int, chunk: int) -> np.ndarray:
        size = min(self.chunk_length, length - chunk * self.chunk_length)
        return np.zeros((size, len(self.tracks)), dtype=np.float64 if self.float_values else np.int64)

    def _add(self, contig: int, chunk: int, buffer: Optional[np.ndarray]) -> None:
        if buffer is None or chunk < 0:
            return
        self._pending.append(((contig << 32) | int(chunk), buffer))
        self._pending_cells += buffer.size
        if self._pending_cells >= CELLS_PER_PART:
            self._flush()

    def _flush(self) -> None:
        """Write what is pending as runs: at most one part file of dense chunks, one of intervals."""
        if self._pending:
            blocks = [buffer for _, buffer in self._pending]
            keys = np.asarray([key for key, _ in self._pending], dtype=np.int64)
            runs = runs_from_dense(keys, np.asarray([len(b) for b in blocks], dtype=np.int64), blocks)
            self.rows.append(write_chunks(runs, self.url, self.storage_options))
        if self._intervals:
            lengths = [length for _, length in self.contigs]
            columns = [np.concatenate(column) for column in zip(*self._intervals)]
            runs = runs_from_intervals(lengths, self.chunk_length, len(self.tracks), *columns)
            self.rows.append(write_chunks(runs, self.url, self.storage_options))
        self._pending, self._intervals = [], []
        self._pending_cells = self._pending_intervals = 0

    def close(self) -> dict:
        """Commit: the index, then the manifest; returns the manifest."""
        self._flush()
        return commit_store(self.url, self.contigs, self.tracks, self.chunk_length, self.rows, self.metadata,
                            self.storage_options)
