"""Reading a coverage store: range means from two edge chunks, binned means, values, runs.

The sum of a track over ``[0, p)`` is the sum of the chunks before ``p``'s chunk (their
index summaries, added up once per contig) plus the part of ``p``'s own chunk before it
(nothing to read when that chunk is all zeros or one value).  So a range's mean reads at
most its two edge chunks, whatever its width, and ``n`` bins read at most ``n + 1``.

One :class:`CoverageStore` per process serves every thread: the manifest and index are
read once, inflated chunks are shared through a bounded cache (:mod:`.chunk_source`).
The store may be a local folder or any fsspec URL (``s3://bucket/store``).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ConfigError
from .chunk_files import store_filesystem
from .chunk_codec import runs_of
from .chunk_prefix import chunk_prefix
from .chunk_source import DEFAULT_CACHE_BYTES, ChunkSource
from .partials import chunk_sizes
from .store_commit import read_manifest
from .store_index import read_index

Runs = Tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, values
# values() builds a dense array: refuse windows wider than this (use runs or binned).
MAX_VALUES_BASES = 1 << 26


class UnknownContigError(ConfigError, KeyError):
    """The store has no contig of that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return ConfigError.__str__(self)


@dataclass(frozen=True)
class ContigChunks:
    """One contig's chunks: the index row of each (-1: all zeros) and the sums before each."""

    number: int
    length: int
    row_of_chunk: np.ndarray  # int64 per chunk
    before: np.ndarray  # (chunks + 1, tracks): sum of every chunk before


class CoverageStore:
    """A store written by :mod:`.store_commit` (a local folder or fsspec URL)."""

    def __init__(self, url, storage_options: Optional[dict] = None, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.url = self.path = os.fspath(url)
        fs, root = store_filesystem(self.url, storage_options)
        self.manifest = read_manifest(fs, root, self.url)
        self.tracks: List[str] = list(self.manifest["tracks"])
        self.chunk_length = int(self.manifest["chunk_length"])
        self._lengths = [int(entry["length"]) for entry in self.manifest["contigs"]]
        self._numbers = {entry["name"]: i for i, entry in enumerate(self.manifest["contigs"])}
        self.index = read_index(fs, f"{root}/{self.manifest['index']}", len(self.tracks))
        sizes = chunk_sizes(self.index.key, self._lengths, self.chunk_length)
        self.source = ChunkSource(fs, root, self.url, self.index, dict(self.manifest["parts"]), len(self.tracks),
                                  sizes, cache_bytes)
        self._contigs: Dict[int, ContigChunks] = {}
        self._lock = threading.Lock()

    @property
    def contigs(self) -> List[dict]:
        """``[{"name", "length"}]`` in store order."""
        return [{"name": entry["name"], "length": entry["length"]} for entry in self.manifest["contigs"]]

    def length(self, contig: str) -> int:
        return self._lengths[self._number(contig)]

    def _number(self, contig: str) -> int:
        try:
            return self._numbers[contig]
        except KeyError:
            raise UnknownContigError(f"unknown contig {contig!r}", self.url) from None

    def chunks(self, contig: str) -> ContigChunks:
        """The contig's chunk table, built from the index once per process."""
        number = self._number(contig)
        found = self._contigs.get(number)
        if found is None:
            with self._lock:
                found = self._contigs.get(number)
                if found is None:
                    found = self._contigs[number] = self._chunk_table(number)
        return found

    def _chunk_table(self, number: int) -> ContigChunks:
        length = self._lengths[number]
        n_chunks = -(-length // self.chunk_length)
        rows = self.index.rows_of_contig(number)
        chunk = self.index.key[rows] & 0xFFFFFFFF
        if len(chunk) and chunk[-1] >= n_chunks:
            raise ConfigError(f"the index has chunks past the end of contig {number}", self.url)
        row_of_chunk = np.full(n_chunks, -1, dtype=np.int64)
        row_of_chunk[chunk] = np.arange(rows.start, rows.stop)
        sums = np.zeros((n_chunks, len(self.tracks)), dtype=self.index.sums.dtype)
        sums[chunk] = self.index.sums[rows]
        before = np.zeros((n_chunks + 1, len(self.tracks)), dtype=sums.dtype)
        np.cumsum(sums, axis=0, out=before[1:])
        return ContigChunks(number, length, row_of_chunk, before)

    def track_indexes(self, tracks: Optional[Sequence] = None) -> List[int]:
        """Column indexes of ``tracks`` (names or indexes; None: all)."""
        if tracks is None:
            return list(range(len(self.tracks)))
        indexes = []
        for track in tracks:
            if isinstance(track, (int, np.integer)) and 0 <= track < len(self.tracks):
                indexes.append(int(track))
            elif track in self.tracks:
                indexes.append(self.tracks.index(track))
            else:
                raise ConfigError(f"unknown track {track!r}; tracks: {', '.join(self.tracks)}", self.url)
        return indexes

    def check_range(self, contig: str, start: int, end: int) -> None:
        length = self.length(contig)
        if not 0 <= start < end <= length:
            raise ConfigError(f"range [{start}, {end}) is not a non-empty range inside {contig} (0..{length})",
                              self.url)

    def prefix_sums(self, contig: str, positions: np.ndarray, columns: Sequence[int]) -> np.ndarray:
        """``(positions, columns)``: each track's sum over ``[0, p)`` for each position ``p``."""
        table = self.chunks(contig)
        positions = np.asarray(positions, dtype=np.int64)
        chunk = positions // self.chunk_length
        at = positions - chunk * self.chunk_length
        sums = table.before[chunk][:, columns]
        inside = np.flatnonzero(at > 0)
        rows = table.row_of_chunk[chunk[inside]]
        inside, rows = inside[rows >= 0], rows[rows >= 0]
        constant = self.index.nbytes[rows] == 0
        sums[inside[constant]] += self.index.mins[rows[constant]][:, columns] * at[inside[constant], None]
        inside, rows = inside[~constant], rows[~constant]
        if not len(rows):
            return sums
        order = np.argsort(rows, kind="stable")
        rows, inside = rows[order], inside[order]
        bounds = np.flatnonzero(np.diff(rows)) + 1
        first = np.concatenate([[0], bounds])
        last = np.concatenate([bounds, [len(rows)]])
        for (row, chunk), lo, hi in zip(self.source.iter_inflated(rows[first].tolist()), first, last):
            here = inside[lo:hi]
            for out_column, track in enumerate(columns):
                sums[here, out_column] += chunk_prefix(chunk, track, at[here])
        return sums

    def mean(self, contig: str, start: int, end: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """Mean depth over ``[start, end)`` per track: at most two chunks read."""
        return self.binned(contig, start, end, 1, tracks)[0]

    def binned(self, contig: str, start: int, end: int, bins: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """``(bins, tracks)`` means over ``bins`` near-equal parts of ``[start, end)``.

        Bin ``i`` is ``[start + i*w//bins, start + (i+1)*w//bins)`` with ``w = end - start``;
        ``bins == w`` gives per-base values.  Reads at most ``bins + 1`` chunks.
        """
        self.check_range(contig, start, end)
        width = end - start
        if not 1 <= bins <= width:
            raise ConfigError(f"bins must be in 1..{width} (the range's width), got {bins}", self.url)
        edges = start + (np.arange(bins + 1, dtype=np.int64) * width) // bins
        sums = self.prefix_sums(contig, edges, self.track_indexes(tracks))
        return np.diff(sums, axis=0) / np.diff(edges)[:, None]

    def values(self, contig: str, start: int, end: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """The per-base values of ``[start, end)``, ``(bases, tracks)``."""
        self.check_range(contig, start, end)
        if end - start > MAX_VALUES_BASES:
            raise ConfigError(f"values() of {end - start} bases: at most {MAX_VALUES_BASES} at once; use binned() "
                              "or runs()", self.url)
        columns = self.track_indexes(tracks)
        out = np.zeros((end - start, len(columns)), dtype=self.index.sums.dtype)
        table, length = self.chunks(contig), self.chunk_length
        chunks = np.arange(start // length, (end - 1) // length + 1)
        rows = table.row_of_chunk[chunks]
        chunks, rows = chunks[rows >= 0], rows[rows >= 0]
        stored = self.index.nbytes[rows] > 0
        decoded = (chunk for _, chunk in self.source.iter_inflated(rows[stored].tolist()))
        for chunk, row, has_bytes in zip(chunks.tolist(), rows.tolist(), stored.tolist()):
            base = chunk * length
            lo, hi = max(start, base), min(end, base + length)
            if has_bytes:
                starts, values, offsets = runs_of(next(decoded))
                ends = np.append(starts[1:], length)
                ends[offsets[1:] - 1] = min(length, table.length - base)
                for out_column, track in enumerate(columns):
                    rows_of_track = slice(offsets[track], offsets[track + 1])
                    dense = np.repeat(values[rows_of_track], (ends - starts)[rows_of_track])
                    out[lo - start:hi - start, out_column] = dense[lo - base:hi - base]
            else:
                out[lo - start:hi - start] = self.index.mins[row, columns]
        return out

    def runs(self, contig: str, track, start: int = 0, end: Optional[int] = None,
             batch_chunks: int = 64) -> Iterator[Runs]:
        """Runs of non-zero value of one track over ``[start, end)``, chunk by chunk, in order
        (a run that crosses a chunk boundary comes in two pieces).  Not cached: exports read
        each chunk once."""
        column = self.track_indexes([track])[0]
        table = self.chunks(contig)
        end = table.length if end is None else end
        if start >= end:
            return
        first, last = start // self.chunk_length, (end - 1) // self.chunk_length
        present = first + np.flatnonzero(table.row_of_chunk[first:last + 1] >= 0)
        for lo in range(0, len(present), batch_chunks):
            chunks = present[lo:lo + batch_chunks]
            rows = table.row_of_chunk[chunks]
            stored = rows[self.index.nbytes[rows] > 0].tolist()
            decoded = dict(zip(stored, self.source.inflated(stored, cache=False)))
            for chunk, row in zip(chunks.tolist(), rows.tolist()):
                base = chunk * self.chunk_length
                if row in decoded:
                    starts, values, offsets = runs_of(decoded[row])
                    rows_of_track = slice(offsets[column], offsets[column + 1])
                    starts, values = starts[rows_of_track], values[rows_of_track]
                    ends = np.append(starts[1:], decoded[row].size)
                else:
                    size = min(self.chunk_length, table.length - base)
                    starts, ends, values = np.zeros(1, np.int64), np.array([size]), self.index.mins[row, column:column + 1]
                starts, ends = np.maximum(starts + base, start), np.minimum(ends + base, end)
                keep = (starts < ends) & (values != 0)
                if keep.any():
                    yield starts[keep], ends[keep], values[keep]
