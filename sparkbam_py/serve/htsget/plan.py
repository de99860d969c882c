"""What every format's ticket is made of, and the per-file state behind it, kept per version.

A :class:`Plan` is the header's pieces, the body's and the end-of-file marker's, in that
order.  Each format has a source class (``bam_source``, ``cram_source``, ``vcf_source``)
built once per version of a file and its index: it holds the header's names and where the
records start and end, and answers ``plan(request)``.  Sources are kept in an LRU, so a
busy server reads each header and index (slice) once, not once per ticket.
"""
from __future__ import annotations

import threading
from typing import Callable, Dict, List, NamedTuple, Tuple

from cachetools import LRUCache

from ...bgzf.constants import EOF_MARKER
from ...channel import open_channel
from .errors import not_found
from .folders import ServedFile
from .pieces import BODY, Piece, byte_span, inline
from .request import Region

SOURCE_CACHE_SIZE = 64


class Plan(NamedTuple):
    header: List[Piece]
    body: List[Piece]
    eof: List[Piece]

    @property
    def size(self) -> int:
        """The bytes a client downloads for the ticket."""
        return sum(piece.size for piece in self.header + self.body + self.eof)


def channel_of(served: ServedFile, which: str = "data"):
    """A fresh caching channel over one of the file's parts (channels are not shared by threads)."""
    located = getattr(served, which)
    return open_channel(located.url)


def bgzf_tail(channel) -> Tuple[int, List[Piece]]:
    """``(where the data ends, the EOF piece)``: the file's own 28-byte EOF block when it has
    one (SAMv1 §4.1.2), else the standard one inline, so every ticket ends a valid stream."""
    size = channel.size
    if size >= len(EOF_MARKER) and channel.read_at(size - len(EOF_MARKER), len(EOF_MARKER)) == EOF_MARKER:
        return size - len(EOF_MARKER), byte_span(size - len(EOF_MARKER), size)
    return size, [inline(EOF_MARKER, BODY)]


def reference_id(names: Dict[str, int], region: Region, id_: str) -> int:
    """The region's reference id; the spec's NotFound when the file has no such reference."""
    ref_id = names.get(region.name)
    if ref_id is None:
        raise not_found(f"{id_} has no reference named {region.name[:200]!r}")
    return ref_id


class SourceCache:
    """``{(file version, index version): source}``, least recently used dropped past ``size``."""

    def __init__(self, size: int = SOURCE_CACHE_SIZE):
        self._sources: LRUCache = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, served: ServedFile, build: Callable[[ServedFile], object]):
        key: Tuple = (served.key, served.index.version, served.bai_json and served.bai_json.version)
        with self._lock:
            source = self._sources.get(key)
        if source is None:
            source = build(served)  # outside the lock: a first read of a remote header takes time
            with self._lock:
                self._sources[key] = source
        return source


def region_bounds(region: Region, no_end: int) -> Tuple[int, int]:
    """``[start, end)`` of a region, open ends filled with 0 and ``no_end``."""
    start = region.start if region.start is not None else 0
    end = region.end if region.end is not None else no_end
    return start, end
