"""CachingChannel: a byte source behind an LRU cache of fixed, aligned pages.

Finding a split's first record means trying candidate positions one after another, each
reading a few hundred bytes around the same spot.  Remote stores (and many filesystem
adapters) drop their buffers on every seek, so each candidate would cost a round trip.
Keeping 64 KiB pages of the file in an LRU makes all but the first read of a page free;
spark-bam's CachingChannel does the same (spark-bam reference §4).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Union

from cachetools import LRUCache

from ..config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE, DEFAULT_READ_ATTEMPTS
from ..errors import ConfigError, InputIOError, MissingInputError, TruncatedError
from .retry import Backoff
from .sources import ByteSource, PathOrUrl, open_source


@dataclass
class ChannelStats:
    """What a channel asked of its source, and how often its cache answered instead."""

    requests: int = 0  # read_at calls on the underlying source
    bytes_fetched: int = 0  # bytes those calls returned
    hits: int = 0  # pages found in the cache
    misses: int = 0  # pages that had to be fetched
    failures: int = 0  # read_at calls that raised a transient InputIOError (then retried)


def _positive(name: str, value: int, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        bound = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{name} must be a {bound} integer, got {value!r}")
    return value


class CachingChannel:
    """Random reads of one file through an LRU cache of ``page_size``-aligned pages.

    ``cache_bytes`` bounds the cache by the real length of the pages it holds (the last page
    of a file is usually short); 0 disables caching.  A page fetch that comes back short
    although the file is longer is retried for the remainder, and one that fails with
    :class:`InputIOError` (a dropped connection, a 5xx, a timeout) is retried whole, after a
    ``backoff`` sleep (see :mod:`.retry`): ``max_attempts`` calls in all, then an
    ``InputIOError`` naming the byte range.  A missing file is not retried.

    A channel is used from one thread at a time: each Spark task opens its own, so there is
    no locking.  It pickles as its source and settings only; the copy starts with an empty
    cache and zeroed stats and reopens its source on first use, and the original keeps
    working.  ``close()`` drops the cache and the open handle; a later read reopens.
    """

    def __init__(
        self,
        source: Union[ByteSource, PathOrUrl],
        page_size: int = DEFAULT_PAGE_SIZE,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        max_attempts: int = DEFAULT_READ_ATTEMPTS,
        size: Optional[int] = None,
        backoff: Backoff = Backoff(),
    ):
        self.page_size = _positive("page_size", page_size)
        self.cache_bytes = _positive("cache_bytes", cache_bytes, allow_zero=True)
        self.max_attempts = _positive("max_attempts", max_attempts)
        self.backoff = backoff
        self._source = open_source(source)
        self.path: str = self._source.path
        self._pages: LRUCache = LRUCache(maxsize=cache_bytes, getsizeof=len)
        # A caller that already knows the length (a Spark task, from its plan) passes it,
        # saving remote sources a HEAD request per task.
        self._size = size
        self.stats = ChannelStats()

    # -- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The file's length, asked of the source once."""
        if self._size is None:
            self._size = self._size_with_retries()
        return self._size

    def _size_with_retries(self) -> int:
        for attempt in range(self.max_attempts):
            try:
                return self._source.size
            except MissingInputError:
                raise
            except InputIOError as error:
                self.stats.failures += 1
                if attempt + 1 == self.max_attempts:
                    raise InputIOError(f"size unknown after {self.max_attempts} attempts; last error: "
                                       f"{error.detail}", self.path) from error
                self.backoff.sleep(attempt)
        raise AssertionError("unreachable: max_attempts is positive")

    def read_at(self, offset: int, n: int) -> bytes:
        """Exactly ``n`` bytes from ``offset``; fewer only where the file ends first."""
        if offset < 0 or n < 0:
            raise ValueError(f"offset and length must be non-negative, got offset={offset} n={n}")
        end = min(offset + n, self.size)
        if offset >= end:
            return b""
        first_page, last_page = offset // self.page_size, (end - 1) // self.page_size
        if (last_page - first_page + 1) * self.page_size > self.cache_bytes:
            # The pages would not fit: caching them would only evict everything else.
            self.stats.misses += last_page - first_page + 1
            return self._fetch(offset, end - offset)
        parts: List[memoryview] = []
        for index, page in enumerate(self._pages_between(first_page, last_page), first_page):
            page_start = index * self.page_size
            parts.append(memoryview(page)[max(offset, page_start) - page_start : end - page_start])
        return b"".join(parts)

    def read_through(self, offset: int, n: int) -> bytes:
        """:meth:`read_at` past the page cache, in one request (with the same retries): for
        sequential scans, whose bytes are read once and would only evict the pages record
        searches revisit."""
        if offset < 0 or n < 0:
            raise ValueError(f"offset and length must be non-negative, got offset={offset} n={n}")
        end = min(offset + n, self.size)
        if offset >= end:
            return b""
        self.stats.misses += (end - 1) // self.page_size - offset // self.page_size + 1
        return self._fetch(offset, end - offset)

    def read_fully(self, offset: int, n: int, what: str = "bytes") -> bytes:
        """Exactly ``n`` bytes, or :class:`TruncatedError` saying what was cut short."""
        data = self.read_at(offset, n)
        if len(data) < n:
            raise TruncatedError(
                f"needed {n} {what}, only {len(data)} before end of file", self.path, offset
            )
        return data

    def _pages_between(self, first: int, last: int) -> List[bytes]:
        """Pages ``first..last``; each run of consecutive missing pages is fetched with one
        request, since on remote storage the round trip, not the bytes, is the cost."""
        pages = [self._pages.get(index) for index in range(first, last + 1)]
        i = 0
        while i < len(pages):
            if pages[i] is not None:
                self.stats.hits += 1
                i += 1
                continue
            j = i
            while j < len(pages) and pages[j] is None:
                j += 1
            self._fill(pages, first, i, j)
            i = j
        return pages

    def _fill(self, pages: List, first: int, i: int, j: int) -> None:
        start = (first + i) * self.page_size
        data = self._fetch(start, min((first + j) * self.page_size, self.size) - start)
        self.stats.misses += j - i
        for k in range(i, j):
            page = data[(k - i) * self.page_size : (k - i + 1) * self.page_size]
            pages[k] = page
            self._pages[first + k] = page

    def _fetch(self, offset: int, want: int) -> bytes:
        """``want`` bytes from the source: short reads are continued from where they stopped,
        failed or empty ones retried after a backoff; never fewer bytes than ``want``."""
        parts: List[bytes] = []
        got = attempts = setbacks = 0
        last_error: Optional[InputIOError] = None
        while got < want and attempts < self.max_attempts:
            if setbacks:
                self.backoff.sleep(setbacks - 1)
            attempts += 1
            try:
                chunk = self._source.read_at(offset + got, want - got)[: want - got]
            except MissingInputError:
                raise
            except InputIOError as error:
                self.stats.failures += 1
                last_error, setbacks = error, setbacks + 1
                continue
            self.stats.requests += 1
            self.stats.bytes_fetched += len(chunk)
            parts.append(chunk)
            got += len(chunk)
            setbacks = setbacks + 1 if not chunk else 0  # progress is retried at once
        if got < want:
            detail = f"; last error: {last_error.detail}" if last_error is not None else ""
            message = f"bytes {offset}-{offset + want - 1}: read {got} of {want} bytes in {attempts} attempts{detail}"
            raise InputIOError(message, self.path, offset) from last_error
        return parts[0] if len(parts) == 1 else b"".join(parts)

    # -- bookkeeping -----------------------------------------------------------------------

    def reset_stats(self) -> None:
        self.stats = ChannelStats()

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    def close(self) -> None:
        self._pages.clear()
        self._source.close()

    def __enter__(self) -> "CachingChannel":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getstate__(self) -> dict:
        # Not the cache (it may be 64 MiB), stats or size: the copy is a fresh channel.
        return {
            "source": self._source,
            "page_size": self.page_size,
            "cache_bytes": self.cache_bytes,
            "max_attempts": self.max_attempts,
            "size": self._size,
            "backoff": self.backoff,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __repr__(self) -> str:
        settings = f"page_size={self.page_size}, cache_bytes={self.cache_bytes}"
        return f"CachingChannel({self.path!r}, {settings})"


def open_channel(path: Union[ByteSource, PathOrUrl], **config) -> CachingChannel:
    """A :class:`CachingChannel` over ``path`` (a local path, URL or ByteSource)."""
    return CachingChannel(path, **config)
