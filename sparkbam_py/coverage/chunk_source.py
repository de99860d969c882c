"""Decoded chunks for the reader: bytes from the part files, a bounded cache per process.

On a local disk each part file is memory-mapped once (the page cache then serves repeat
reads without a system call); elsewhere (S3, HTTP, ...) the chunks a query needs are
fetched by byte range, all in one ``cat_ranges`` call.  Decoded chunks, with each run's
running sum, stay in an LRU cache bounded in bytes and shared by all threads.
"""
from __future__ import annotations

import mmap
import threading
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np
from cachetools import LRUCache
from fsspec.implementations.local import LocalFileSystem

from ..errors import CorruptDataError, InputIOError, MissingInputError
from .chunk_codec import decode_chunk
from .store_index import ChunkIndex

DEFAULT_CACHE_BYTES = 256 << 20


@dataclass(frozen=True)
class DecodedChunk:
    """One chunk's runs; ``before[i]`` is the sum of its track's runs before run ``i``."""

    starts: np.ndarray
    values: np.ndarray
    offsets: np.ndarray  # track t's runs: offsets[t]:offsets[t + 1]
    before: np.ndarray
    size: int

    @classmethod
    def of(cls, starts, values, offsets, size: int) -> "DecodedChunk":
        ends = np.empty_like(starts)
        ends[:-1] = starts[1:]
        ends[offsets[1:] - 1] = size
        weighted = values * (ends - starts)
        running = np.cumsum(weighted) - weighted
        before = running - np.repeat(running[offsets[:-1]], np.diff(offsets))
        return cls(starts, values, offsets, before, size)

    @property
    def nbytes(self) -> int:
        return self.starts.nbytes + self.values.nbytes + self.before.nbytes + 64

    def prefix(self, track: int, at: np.ndarray) -> np.ndarray:
        """Sum of track ``track`` over ``[0, at)`` for each offset ``at`` in the chunk."""
        rows = slice(self.offsets[track], self.offsets[track + 1])
        starts = self.starts[rows]
        k = np.searchsorted(starts, at, side="right") - 1
        return self.before[rows][k] + self.values[rows][k] * (at - starts[k])

    def track_runs(self, track: int):
        rows = slice(self.offsets[track], self.offsets[track + 1])
        starts = self.starts[rows]
        return starts, np.append(starts[1:], self.size), self.values[rows]


class ChunkSource:
    """Decoded chunks of one store's index rows."""

    def __init__(self, fs, root: str, url: str, index: ChunkIndex, extents: Dict[str, int], n_tracks: int,
                 sizes: np.ndarray, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.fs, self.root, self.url = fs, root.rstrip("/"), url
        self.index, self.extents, self.n_tracks, self.sizes = index, extents, n_tracks, sizes
        self.local = isinstance(fs, LocalFileSystem)
        self._maps: Dict[int, mmap.mmap] = {}
        self._cache = LRUCache(maxsize=max(1, cache_bytes), getsizeof=lambda chunk: chunk.nbytes)
        self._lock = threading.Lock()

    def decoded(self, rows: Sequence[int], cache: bool = True) -> List[DecodedChunk]:
        """The chunks of index ``rows`` (each stored as bytes, not as a value)."""
        found: Dict[int, DecodedChunk] = {}
        if cache:
            with self._lock:
                for row in rows:
                    chunk = self._cache.get(row)
                    if chunk is not None:
                        found[row] = chunk
        missing = [row for row in dict.fromkeys(rows) if row not in found]
        for row, blob in zip(missing, self._fetch(missing)):
            where = f"{self.url}/{self._part_name(row)} at byte {int(self.index.offset[row])}"
            found[row] = DecodedChunk.of(*decode_chunk(blob, self.n_tracks, int(self.sizes[row]), where),
                                         int(self.sizes[row]))
        if cache and missing:
            with self._lock:
                for row in missing:
                    self._cache[row] = found[row]
        return [found[row] for row in rows]

    def _part_name(self, row: int) -> str:
        return self.index.parts[self.index.part[row]]

    def _fetch(self, rows: Sequence[int]) -> List:
        if not rows:
            return []
        starts = [int(self.index.offset[row]) for row in rows]
        ends = [start + int(self.index.nbytes[row]) for start, row in zip(starts, rows)]
        if self.local:
            return [self._mapped(int(self.index.part[row]))[start:end] for row, start, end in zip(rows, starts, ends)]
        paths = [f"{self.root}/{self._part_name(row)}" for row in rows]
        try:
            blobs = self.fs.cat_ranges(paths, starts, ends, on_error="return")
        except OSError as failed:
            raise InputIOError(f"reading coverage chunks failed: {failed}", self.url) from None
        for path, start, end, blob in zip(paths, starts, ends, blobs):
            if isinstance(blob, FileNotFoundError):
                raise MissingInputError("a part file the manifest names is missing", path)
            if isinstance(blob, Exception):
                raise InputIOError(f"reading bytes {start}..{end} failed: {blob}", path)
            if len(blob) != end - start:
                raise CorruptDataError(f"part file ends before byte {end}", path)
        return blobs

    def _mapped(self, part: int):
        mapped = self._maps.get(part)
        if mapped is None:
            with self._lock:
                mapped = self._maps.get(part)
                if mapped is None:
                    mapped = self._maps[part] = self._map(self.index.parts[part])
        return memoryview(mapped)

    def _map(self, name: str):
        path = f"{self.root}/{name}"
        try:
            with open(path, "rb") as handle:
                size = handle.seek(0, 2)
                if size < self.extents.get(name, 0):
                    raise CorruptDataError(f"part file holds {size} bytes, the manifest says {self.extents[name]}",
                                           path)
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except FileNotFoundError:
            raise MissingInputError("a part file the manifest names is missing", path) from None
