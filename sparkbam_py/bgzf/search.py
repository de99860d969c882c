"""Find the first BGZF block that starts at or after an arbitrary compressed offset.

A candidate offset is accepted only when N consecutive block headers chain from it (each
block's BSIZE leads to the next valid header); reaching the end of the file first also
counts. Eight fixed header bytes per block make a false chain of 5 all but impossible.
A true block whose chain runs into a damaged header is an error, never skipped.
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK
from ..errors import BlockNotFoundError, CorruptBlockError, TruncatedError
from .constants import CM_DEFLATE, GZIP_ID1, GZIP_ID2, MAX_BLOCK_SIZE, STANDARD_HEADER_SIZE
from .header import block_size_at, header_prefix_size, parse_block_header

_MAGIC3 = bytes([GZIP_ID1, GZIP_ID2, CM_DEFLATE])


def find_block_start(channel, offset: int, blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK) -> int:
    """The compressed start of the first block at or after ``offset``; the file size if none.

    Raises BlockNotFoundError when 64 KiB (the largest block) pass without a chain, which
    can only mean corruption; TruncatedError when a valid chain runs into a block that the
    end of the file cuts short; and CorruptBlockError when a candidate that is a whole valid
    header chains into an invalid one.  A valid BGZF header fixes 10 bytes, so outside
    corruption one appears by chance about once in 2^80 positions: its chain breaking means
    a damaged block, and moving on to the next chain would silently skip the blocks between.
    """
    size = channel.size
    if offset >= size:
        return size
    # A block start must occur within one maximal block of any offset.
    window = channel.read_at(offset, MAX_BLOCK_SIZE + STANDARD_HEADER_SIZE)
    i = window.find(_MAGIC3)
    while 0 <= i < MAX_BLOCK_SIZE:
        links, broken_at = _chain(channel, offset + i, blocks_to_check, size)
        if broken_at is None:
            return offset + i
        if links:
            _raise_broken_chain(channel, offset + i, links, broken_at)
        i = window.find(_MAGIC3, i + 1)
    if offset + MAX_BLOCK_SIZE >= size:
        return size  # offset lies inside the last block: no block starts after it
    raise BlockNotFoundError(
        f"no chain of {blocks_to_check} BGZF block headers starts in the {MAX_BLOCK_SIZE} bytes from here",
        channel.path,
        offset,
    )


def _header_at(channel, pos: int) -> bytes:
    head = channel.read_at(pos, STANDARD_HEADER_SIZE)
    if header_prefix_size(head) > len(head):
        head = channel.read_at(pos, header_prefix_size(head))
    return head


def _chain(channel, start: int, blocks_to_check: int, size: int) -> Tuple[int, Optional[int]]:
    """(valid headers chained from ``start``, where the chain broke or None if it held)."""
    pos = start
    for links in range(blocks_to_check):
        if pos == size:
            return links, None
        block_size = block_size_at(_header_at(channel, pos))
        if block_size is None:
            return links, pos
        if pos + block_size > size:
            # A full valid header (8 fixed bytes) whose block the file cuts short: this is
            # truncation, and answering "no block here" would silently drop its records.
            raise TruncatedError(
                f"BGZF block of {block_size} bytes runs past the end of the file ({size} bytes)",
                channel.path,
                pos,
            )
        pos += block_size
    return blocks_to_check, None


def _raise_broken_chain(channel, start: int, links: int, broken_at: int) -> None:
    try:
        parse_block_header(_header_at(channel, broken_at), broken_at, channel.path)
    except CorruptBlockError as error:
        raise CorruptBlockError(f"{error.detail}, after {links} valid BGZF blocks chained from compressed "
                                f"byte {start}", channel.path, broken_at) from None
    raise AssertionError("a header block_size_at refused must not parse")  # pragma: no cover
