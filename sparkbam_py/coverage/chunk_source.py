"""Decoded chunks for the reader: bytes from the part files, a bounded cache per process.

On a local disk each part file is memory-mapped once (the page cache then serves repeat
reads without a system call); elsewhere (S3, HTTP, ...) the chunks a query needs are
fetched by byte range, neighbours merged into one GET, all GETs in one ``cat_ranges`` call.
Inflated chunks stay in an LRU cache bounded in bytes and shared by all threads; one request
holds a bounded batch of chunks at a time.
"""
from __future__ import annotations

import mmap
import threading
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np
from cachetools import LRUCache
from fsspec.implementations.local import LocalFileSystem

from ..errors import CorruptDataError, InputIOError, MissingInputError
from .chunk_codec import RawChunk, inflate_chunk
from .store_index import ChunkIndex

DEFAULT_CACHE_BYTES = 256 << 20
DECODE_BATCH = 64
# Remote reads: chunks less than this far apart are fetched in one GET (the gap is read and
# dropped), up to this many bytes per GET.
MAX_FETCH_GAP = 64 << 10
MAX_FETCH_BYTES = 16 << 20



class ChunkSource:
    """Inflated chunks (:class:`~.chunk_codec.RawChunk`) of one store's index rows, cached.

    The cache keeps chunks inflated but not expanded into arrays: at 30x that is about 40 kB
    per 64 kbp chunk, a tenth of its runs as arrays, so 256 MB holds 400 Mbp of genome.
    """

    def __init__(self, fs, root: str, url: str, index: ChunkIndex, extents: Dict[str, int], n_tracks: int,
                 sizes: np.ndarray, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.fs, self.root, self.url = fs, root.rstrip("/"), url
        self.index, self.extents, self.n_tracks, self.sizes = index, extents, n_tracks, sizes
        self.local = isinstance(fs, LocalFileSystem)
        self._maps: Dict[int, mmap.mmap] = {}
        self._cache = LRUCache(maxsize=max(1, cache_bytes), getsizeof=lambda chunk: chunk.nbytes)
        self._lock = threading.Lock()

    def iter_inflated(self, rows: Sequence[int], cache: bool = True,
                     batch: int = DECODE_BATCH) -> Iterator[Tuple[int, RawChunk]]:
        """``(row, chunk)`` for index ``rows`` (each stored as bytes), a batch at a time, so a
        request over a whole chromosome holds at most ``batch`` uncached chunks at once."""
        rows = list(dict.fromkeys(rows))
        for lo in range(0, len(rows), batch):
            yield from zip(rows[lo:lo + batch], self.inflated(rows[lo:lo + batch], cache))

    def inflated(self, rows: Sequence[int], cache: bool = True) -> List[RawChunk]:
        """The inflated chunks of index ``rows`` (each stored as bytes, not as a value)."""
        found: Dict[int, RawChunk] = {}
        if cache:
            with self._lock:
                for row in rows:
                    chunk = self._cache.get(row)
                    if chunk is not None:
                        found[row] = chunk
        missing = [row for row in dict.fromkeys(rows) if row not in found]
        for row, blob in zip(missing, self._encoded_bytes(missing)):
            where = f"{self.url}/{self._part_name(row)} at byte {int(self.index.offset[row])}"
            found[row] = inflate_chunk(blob, self.n_tracks, int(self.sizes[row]), where)
        if cache and missing:
            with self._lock:
                for row in missing:
                    if found[row].nbytes <= self._cache.maxsize:  # a larger one is simply not kept
                        self._cache[row] = found[row]
        return [found[row] for row in rows]

    def _part_name(self, row: int) -> str:
        return self.index.parts[self.index.part[row]]

    def _encoded_bytes(self, rows: Sequence[int]) -> List:
        if not self.local:
            return self._fetch(rows)
        return [self._mapped(int(self.index.part[row]))[int(self.index.offset[row]):
                                                      int(self.index.offset[row] + self.index.nbytes[row])]
                for row in rows]

    def _fetch(self, rows: Sequence[int]) -> List[bytes]:
        """Chunks from a remote store: neighbouring ones in one ranged GET, all GETs at once."""
        if not rows:
            return []
        starts = [int(self.index.offset[row]) for row in rows]
        ends = [start + int(self.index.nbytes[row]) for start, row in zip(starts, rows)]
        parts = [int(self.index.part[row]) for row in rows]
        spans: List[list] = []  # [part, start, end, [positions in rows]]
        for at in sorted(range(len(rows)), key=lambda at: (parts[at], starts[at])):
            last = spans[-1] if spans else None
            if last and last[0] == parts[at] and starts[at] - last[2] <= MAX_FETCH_GAP \
                    and ends[at] - last[1] <= MAX_FETCH_BYTES:
                last[2] = max(last[2], ends[at])
                last[3].append(at)
            else:
                spans.append([parts[at], starts[at], ends[at], [at]])
        paths = [f"{self.root}/{self.index.parts[span[0]]}" for span in spans]
        try:
            blobs = self.fs.cat_ranges(paths, [span[1] for span in spans], [span[2] for span in spans],
                                       on_error="return")
        except OSError as failed:
            raise InputIOError(f"reading coverage chunks failed: {failed}", self.url) from None
        out: List[bytes] = [b""] * len(rows)
        for path, (_, start, end, members), blob in zip(paths, spans, blobs):
            if isinstance(blob, FileNotFoundError):
                raise MissingInputError("a part file the manifest names is missing", path)
            if isinstance(blob, Exception):
                raise InputIOError(f"reading bytes {start}..{end} failed: {blob}", path)
            if len(blob) != end - start:
                raise CorruptDataError(f"part file ends before byte {end}", path)
            for at in members:
                out[at] = blob[starts[at] - start:ends[at] - start]
        return out

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
