"""Byte sources: one small interface, ``size`` and ``read_at(offset, n)``, over any store.

Local paths use ``os.pread``; ``http(s)://`` uses Range requests on a persistent standard
library connection; every other scheme (``file://``, ``memory://``, ``s3://``, ``gs://``,
``hdfs://``...) goes through fsspec.  Sources are stateless apart from their open handle,
so they pickle without it and reopen lazily wherever they are unpickled (a Spark executor).
"""
from __future__ import annotations

import http.client
import io
import logging
import os
import re
import stat
from abc import ABC, abstractmethod
from typing import Optional, Union
from urllib.parse import urlsplit

from ..errors import InputIOError, MissingInputError, SparkBamError
from .retry import read_timeout

log = logging.getLogger(__name__)

PathOrUrl = Union[str, "os.PathLike[str]"]


class ByteSource(ABC):
    """Random access to the bytes of one file or object.

    ``read_at`` returns fewer than ``n`` bytes at the end of the data, and may also return a
    short read transiently (a remote store cutting a response); callers that need exactly
    ``n`` bytes retry, as :class:`~sparkbam_py.channel.caching.CachingChannel` does.
    """

    path: str
    # Attributes holding open handles or facts fetched through them: never pickled.
    _transient: tuple = ()

    @property
    @abstractmethod
    def size(self) -> int:
        """Total length in bytes."""

    @abstractmethod
    def read_at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes starting at ``offset``; empty at or after the end."""

    def close(self) -> None:
        """Drop open handles; a later read reopens them."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in self._transient:
            state[name] = None
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


def _check_range(offset: int, n: int) -> None:
    if offset < 0 or n < 0:
        raise ValueError(f"offset and length must be non-negative, got offset={offset} n={n}")


class LocalFileSource(ByteSource):
    """A file on the local filesystem, read with ``os.pread`` (no shared seek position)."""

    _transient = ("_file",)

    def __init__(self, path: PathOrUrl):
        self.path = os.fspath(path)
        self._file: Optional[io.FileIO] = None
        self._stat()  # fail at open time, naming the path, rather than on the first read

    def _stat(self) -> os.stat_result:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise MissingInputError("no such file", self.path) from None
        except OSError as error:
            raise InputIOError(f"cannot stat: {error}", self.path) from error
        if stat.S_ISDIR(info.st_mode):
            raise InputIOError("is a directory, not a file", self.path)
        return info

    def _fd(self) -> int:
        if self._file is None:
            try:
                # FileIO rather than os.open: it closes itself if the source is dropped unclosed.
                self._file = io.FileIO(self.path, "r")
            except FileNotFoundError:
                raise MissingInputError("no such file", self.path) from None
            except OSError as error:
                raise InputIOError(f"cannot open: {error}", self.path) from error
        return self._file.fileno()

    @property
    def size(self) -> int:
        return os.fstat(self._fd()).st_size

    def read_at(self, offset: int, n: int) -> bytes:
        _check_range(offset, n)
        try:
            return os.pread(self._fd(), n, offset)
        except OSError as error:
            raise InputIOError(f"read of {n} bytes failed: {error}", self.path, offset) from error

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


_CONTENT_RANGE_TOTAL = re.compile(r"/\s*(\d+)\s*$")
# RFC 9110 §14.4: "Content-Range: bytes first-last/complete-length".
_CONTENT_RANGE_FIRST = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/")
# http.client raises these (and OSError) when a kept-alive connection was closed under us.
_CONNECTION_ERRORS = (OSError, http.client.HTTPException)


class HttpSource(ByteSource):
    """An ``http(s)://`` URL read with ``Range: bytes=a-b`` on one persistent connection.

    A server that ignores Range answers 200 with the whole body; the wanted slice is cut out
    of it so the bytes stay correct, ``ignores_range`` becomes true and a warning is logged
    once, because every read then transfers the whole file.

    Each request waits at most ``timeout`` seconds for the server (default
    ``$SPARKBAM_READ_TIMEOUT`` or 20): a stall is an :class:`InputIOError`, which the caching
    channel retries with backoff.  A 206 answer is used only if its ``Content-Range`` starts
    where asked, so bytes are never shifted.
    """

    _transient = ("_conn", "_size")
    connect_attempts = 2  # one reconnect: servers close idle keep-alive connections

    def __init__(self, url: str, timeout: Optional[float] = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.path = url
        self.timeout = read_timeout() if timeout is None else timeout
        self.ignores_range = False
        self._conn: Optional[http.client.HTTPConnection] = None
        self._size: Optional[int] = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urlsplit(self.path)
            https = parts.scheme == "https"
            connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
            self._conn = connection_class(parts.hostname, parts.port, timeout=self.timeout)
        return self._conn

    def _target(self) -> str:
        parts = urlsplit(self.path)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _request(self, method: str, headers: dict, offset: Optional[int] = None):
        """``(status, headers, body)``; reconnects once if the connection has gone stale."""
        last_error: Optional[Exception] = None
        for _ in range(self.connect_attempts):
            try:
                conn = self._connection()
                conn.request(method, self._target(), headers=headers)
                response = conn.getresponse()
                body = response.read()  # read it all so the connection can be reused
                return response.status, response.headers, body
            except _CONNECTION_ERRORS as error:
                self.close()
                last_error = error
                if isinstance(error, TimeoutError):
                    break  # a stall is not a stale connection: the caller's retry decides
        what = f"HTTP {method} {headers.get('Range', '')}".rstrip()
        raise InputIOError(f"{what} failed: {last_error!r}", self.path, offset) from last_error

    def _status_error(self, status: int, offset: Optional[int], byte_range: str = "") -> Exception:
        # A failed request leaves no connection open behind the error (a retry reconnects).
        self.close()
        if status == 404:
            return MissingInputError("HTTP 404 Not Found", self.path, offset)
        asked = f" for {byte_range}" if byte_range else ""
        return InputIOError(f"unexpected HTTP status {status}{asked}", self.path, offset)

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = self._fetch_size()
        return self._size

    def _fetch_size(self) -> int:
        status, headers, _ = self._request("HEAD", {})
        if status == 200 and headers.get("Content-Length") is not None:
            return int(headers["Content-Length"])
        if status == 404:
            raise self._status_error(status, None)
        # No usable HEAD: a one-byte range reports the total length in Content-Range.
        status, headers, body = self._request("GET", {"Range": "bytes=0-0"})
        if status == 206:
            match = _CONTENT_RANGE_TOTAL.search(headers.get("Content-Range", ""))
            if match:
                return int(match.group(1))
        if status == 200:
            return len(body)
        if status == 416:  # nothing to give a first byte of: an empty file
            return 0
        raise self._status_error(status, None)

    def read_at(self, offset: int, n: int) -> bytes:
        _check_range(offset, n)
        if n == 0:
            return b""
        byte_range = f"bytes={offset}-{offset + n - 1}"
        status, headers, body = self._request("GET", {"Range": byte_range}, offset)
        if status == 206:
            self._check_content_range(headers.get("Content-Range", ""), offset, byte_range)
            return body[:n]
        if status == 416:  # the range starts at or past the end
            return b""
        if status == 200:
            self._note_range_ignored()
            return body[offset:offset + n]
        raise self._status_error(status, offset, byte_range)

    def _check_content_range(self, content_range: str, offset: int, byte_range: str) -> None:
        match = _CONTENT_RANGE_FIRST.match(content_range)
        if match is None or int(match.group(1)) != offset:
            raise InputIOError(f"asked for {byte_range}, the server sent Content-Range {content_range!r}",
                               self.path, offset)

    def _note_range_ignored(self) -> None:
        if not self.ignores_range:
            self.ignores_range = True
            log.warning("%s: server ignores Range; every read transfers the whole file", self.path)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class FsspecSource(ByteSource):
    """Any URL fsspec reads: ``file://``, ``memory://``, ``s3://``, ``gs://``, ``hdfs://``..."""

    _transient = ("_fs", "_fs_path", "_size")

    def __init__(self, url: str, **storage_options):
        self.path = url
        self.storage_options = storage_options
        self._fs = None
        self._fs_path: Optional[str] = None
        self._size: Optional[int] = None

    def _filesystem(self):
        if self._fs is None:
            import fsspec.core  # deferred: importing fsspec costs time on every executor start

            self._fs, self._fs_path = fsspec.core.url_to_fs(self.path, **self.storage_options)
        return self._fs

    @property
    def size(self) -> int:
        if self._size is None:
            fs = self._filesystem()
            size = self._call(fs.size, None, self._fs_path)
            if size is None:
                raise InputIOError("the filesystem does not report a size", self.path)
            self._size = int(size)
        return self._size

    def read_at(self, offset: int, n: int) -> bytes:
        _check_range(offset, n)
        # Clamp to the size: some stores (S3) reject ranges that start past the end.
        end = min(offset + n, self.size)
        if offset >= end:
            return b""
        fs = self._filesystem()
        data = self._call(fs.cat_file, offset, self._fs_path, start=offset, end=end)
        if len(data) > end - offset:  # a store that ignored the range: never pass on other bytes
            raise InputIOError(f"asked for bytes {offset}-{end - 1}, got {len(data)} bytes", self.path, offset)
        return data

    def _call(self, method, offset: Optional[int], *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except FileNotFoundError:
            raise MissingInputError("no such file", self.path, offset) from None
        except SparkBamError:
            raise
        except Exception as error:  # noqa: BLE001 - botocore/aiohttp errors are not OSErrors
            # Whatever the store's client raised (after its own retries), the bytes did not come.
            raise InputIOError(f"{method.__name__}{_range_text(kwargs)} failed: {error!r}", self.path, offset) from error

    def close(self) -> None:
        # fsspec filesystems are shared, cached instances: forget ours, do not close it.
        self._fs = None


def _range_text(kwargs: dict) -> str:
    if "start" in kwargs:
        return f" of bytes {kwargs['start']}-{kwargs['end'] - 1}"
    return ""


def _is_local(path: str) -> bool:
    scheme = urlsplit(path).scheme
    # A one-letter "scheme" is a Windows drive (C:\data\x.bam), not a URL.
    return scheme == "" or len(scheme) == 1


def open_source(path_or_url: Union[PathOrUrl, ByteSource], **storage_options) -> ByteSource:
    """The :class:`ByteSource` for a local path or URL (a source passes through unchanged).

    A missing local file raises :class:`MissingInputError` here; remote sources are opened
    lazily and report a missing object on the first ``size`` or ``read_at``.
    ``storage_options`` go to fsspec (credentials, endpoint...) for fsspec URLs only.
    """
    if isinstance(path_or_url, ByteSource):
        return path_or_url
    path = os.fspath(path_or_url)
    if _is_local(path):
        return LocalFileSource(path)
    if urlsplit(path).scheme in ("http", "https"):
        return HttpSource(path)
    return FsspecSource(path, **storage_options)
