"""Text that is not BGZF: plain gzip (read whole, one partition) and uncompressed text
(split by Hadoop's newline rule).

Uncompressed ranges follow Hadoop's ``LineRecordReader``: a range ``[start, end)`` owns the
lines starting at a byte ``p`` with ``start < p <= end`` (the first range also owns the
line at 0), that is, the line whose preceding newline lies in ``[start - 1, end)``.  Each
range skips past the first newline at or after ``start`` and reads whole lines while they
start at or before ``end``; neighbours agree by construction.

``file_position`` of these lines is their byte offset in the uncompressed data (there are
no virtual offsets without BGZF blocks).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from ..bgzf.constants import GZIP_MAGIC
from ..config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE
from ..errors import CorruptDataError, TruncatedError
from ..split.task import RangeTask, open_task_channel
from .chunk import LineChunk, line_bounds

STREAM_READ_BYTES = 4 << 20
# zlib: 16 + 15 window bits reads one gzip member (RFC 1952 wrapper) with a 32 KiB window.
GZIP_WBITS = 16 + zlib.MAX_WBITS


@dataclass(frozen=True)
class PlainTextTask(RangeTask):
    """One byte range of an uncompressed text file, or (``gzip``) a whole gzip file."""

    gzip: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    verify: bool = True
    exact: None = None


def iter_plain_chunks(task: PlainTextTask) -> Iterator[LineChunk]:
    """The lines a :class:`PlainTextTask` owns, in file order."""
    channel = open_task_channel(task)
    try:
        if task.gzip:
            yield from _stream_lines(_inflate_members(channel), 0, task.path)
            return
        start, end = task.range
        begin = 0 if start == 0 else _first_line_after(channel, start)
        if begin is None or begin > end:
            return
        yield from _stream_lines(_read_from(channel, begin), begin, task.path, last_start=end)
    finally:
        channel.close()


def _first_line_after(channel, offset: int) -> Optional[int]:
    """The start of the line after the first newline at or after ``offset``."""
    while offset < channel.size:
        piece = channel.read_at(offset, STREAM_READ_BYTES)
        newline = piece.find(b"\n")
        if newline >= 0:
            return offset + newline + 1
        offset += len(piece)
    return None


def _read_from(channel, offset: int) -> Iterator[bytes]:
    while offset < channel.size:
        piece = channel.read_at(offset, STREAM_READ_BYTES)
        if not piece:
            raise TruncatedError("the file ended early while being read", channel.path, offset)
        yield piece
        offset += len(piece)


def _inflate_members(channel) -> Iterator[bytes]:
    """The inflated data of every gzip member in turn (RFC 1952 §2.2: members concatenate).

    A member the file cuts short is a TruncatedError, bad deflate data or bytes after a
    member that are not another member a CorruptDataError, each with the compressed offset.
    """
    inflater, offset, member_start = zlib.decompressobj(GZIP_WBITS), 0, 0
    pending = b""
    while True:
        if not pending:
            if offset >= channel.size:
                break
            pending = channel.read_at(offset, STREAM_READ_BYTES)
            offset += len(pending)
        try:
            data = inflater.decompress(pending)
        except zlib.error as error:
            raise CorruptDataError(f"gzip member starting at byte {member_start} is corrupt ({error})",
                                   channel.path, offset - len(pending)) from None
        if data:
            yield data
        if inflater.eof:
            pending = inflater.unused_data
            member_start = offset - len(pending)
            if pending or offset < channel.size:
                _check_member_magic(channel, member_start)
                inflater = zlib.decompressobj(GZIP_WBITS)
        else:
            pending = b""
    if not inflater.eof:
        raise TruncatedError(f"the gzip member starting at byte {member_start} is cut short (truncated file?)",
                             channel.path, channel.size)


def _check_member_magic(channel, start: int) -> None:
    if channel.read_at(start, len(GZIP_MAGIC)) != GZIP_MAGIC:
        raise CorruptDataError("bytes after the last gzip member are not another gzip member", channel.path, start)


def _stream_lines(pieces: Iterator[bytes], base: int, path: str,
                  last_start: Optional[int] = None) -> Iterator[LineChunk]:
    """Lines of a byte stream whose first byte is at offset ``base`` and starts a line;
    with ``last_start``, only lines starting at or before it (the last one read whole)."""
    carry = b""
    pieces = iter(pieces)
    piece = next(pieces, None)
    while piece is not None:
        following = next(pieces, None)
        buffer = carry + piece if carry else piece
        data = np.frombuffer(buffer, dtype=np.uint8)
        starts, ends, after = line_bounds(data, 0, following is None)
        owned = len(starts) if last_start is None else int(np.searchsorted(starts + base, last_start, side="right"))
        if owned:
            yield LineChunk(data, starts[:owned], ends[:owned], _offsets_from(base), path, bgzf=False)
        if owned < len(starts) or (last_start is not None and base + after > last_start):
            return  # the next line starts past the range: it is the next range's
        carry, base = buffer[after:], base + after
        piece = following


def _offsets_from(base: int):
    return lambda starts: starts + base
