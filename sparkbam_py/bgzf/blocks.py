"""Block-level access to a BGZF file: headers, raw blocks, and the metadata walk.

Works on any channel with ``path``, ``size`` and ``read_at(offset, n)``.
"""
from __future__ import annotations

import warnings
from typing import Iterator, NamedTuple, Optional, Tuple

from ..errors import TruncatedError
from .constants import EMPTY_DEFLATE_PAYLOAD, MAX_BLOCK_SIZE, STANDARD_HEADER_SIZE
from .header import BlockHeader, header_prefix_size, parse_block_header
from .inflate import block_isize

# Sequential walks read this much compressed data per request, then slice blocks out of it.
SEQUENTIAL_READ_SIZE = 4 * MAX_BLOCK_SIZE


class MissingEofMarkerWarning(UserWarning):
    """The file does not end with the BGZF EOF marker (SAMv1 §4.1.2): maybe truncated."""


class BlockInfo(NamedTuple):
    """One line of a ``.blocks`` file: ``start,compressedSize,uncompressedSize``."""

    start: int
    compressed_size: int
    uncompressed_size: int


def read_block_header(channel, start: int) -> BlockHeader:
    """The validated header of the block at ``start``."""
    prefix = channel.read_at(start, STANDARD_HEADER_SIZE)
    wanted = header_prefix_size(prefix)
    if wanted > len(prefix):
        prefix = channel.read_at(start, wanted)
    if len(prefix) < wanted:
        raise TruncatedError(
            f"file ends {len(prefix)} bytes into a BGZF block header", channel.path, start
        )
    return parse_block_header(prefix, start, channel.path)


def read_raw_block(channel, start: int) -> Tuple[BlockHeader, bytes]:
    """The header and the complete raw bytes of the block at ``start``."""
    header = read_block_header(channel, start)
    raw = channel.read_at(start, header.block_size)
    if len(raw) < header.block_size:
        raise TruncatedError(
            f"BGZF block of {header.block_size} bytes is cut off after {len(raw)} (file size {channel.size})",
            channel.path,
            start,
        )
    return header, raw


def iter_raw_blocks(channel, start: int = 0, stop: Optional[int] = None) -> Iterator[Tuple[BlockHeader, memoryview]]:
    """Every block from ``start`` (a block start) while its start is below ``stop``.

    Reads large spans at once so remote sources see few requests. Warns once if the
    file does not end with an empty block (the EOF marker).
    """
    size = channel.size
    stop = size if stop is None else min(stop, size)
    buf, buf_start = b"", start
    pos, last_empty = start, False
    while pos < stop:
        if pos + MAX_BLOCK_SIZE > buf_start + len(buf):
            buf_start, buf = pos, channel.read_at(pos, max(SEQUENTIAL_READ_SIZE, MAX_BLOCK_SIZE))
        header = _header_in(buf, buf_start, pos, channel)
        view = memoryview(buf)[pos - buf_start : pos - buf_start + header.block_size]
        last_empty = is_empty_block(header, block_isize(view, header))
        yield header, view
        pos = header.end
    if pos >= size and not last_empty:
        warn_missing_eof_marker(channel.path, stacklevel=2)


def is_empty_block(header: BlockHeader, isize: int) -> bool:
    """An empty block, as the EOF marker is (SAMv1 §4.1.2): no data, the empty deflate payload."""
    return header.payload_size == len(EMPTY_DEFLATE_PAYLOAD) and isize == 0


def warn_missing_eof_marker(path: str, stacklevel: int) -> None:
    """Warn that ``path`` lacks the EOF marker; ``stacklevel`` as ``warnings.warn`` counts it
    from the caller of this function."""
    warnings.warn(f"{path}: no BGZF EOF marker; the file may be truncated", MissingEofMarkerWarning,
                  stacklevel=stacklevel + 1)


def _header_in(buf: bytes, buf_start: int, pos: int, channel) -> BlockHeader:
    i = pos - buf_start
    if len(buf) - i >= STANDARD_HEADER_SIZE:
        header = parse_block_header(buf, pos, channel.path, i)
        if i + header.block_size <= len(buf):
            return header
    # The buffer holds everything up to end of file, so the file ends inside this block;
    # re-reading it on its own raises the precise TruncatedError.
    return read_raw_block(channel, pos)[0]


def iter_block_info(channel, start: int = 0, include_eof_marker: bool = False) -> Iterator[BlockInfo]:
    """``.blocks`` metadata of every block; the final empty EOF-marker block is left out."""
    pending = None
    for header, raw in iter_raw_blocks(channel, start):
        if pending is not None:
            yield pending
        pending = BlockInfo(header.start, header.block_size, block_isize(raw, header))
    if pending is not None and (include_eof_marker or pending.uncompressed_size != 0):
        yield pending
