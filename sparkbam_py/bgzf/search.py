"""Find the first BGZF block that starts at or after an arbitrary compressed offset.

A candidate offset is accepted only when N consecutive block headers chain from it (each
block's BSIZE leads to the next valid header); reaching the end of the file first also
counts. Eight fixed header bytes per block make a false chain of 5 all but impossible.
"""
from __future__ import annotations

from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK
from ..errors import BlockNotFoundError, TruncatedError
from .constants import CM_DEFLATE, GZIP_ID1, GZIP_ID2, MAX_BLOCK_SIZE, STANDARD_HEADER_SIZE
from .header import block_size_at, header_prefix_size

_MAGIC3 = bytes([GZIP_ID1, GZIP_ID2, CM_DEFLATE])


def find_block_start(channel, offset: int, blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK) -> int:
    """The compressed start of the first block at or after ``offset``; the file size if none.

    Raises BlockNotFoundError when 64 KiB (the largest block) pass without a chain, which
    can only mean corruption, and TruncatedError when a valid chain runs into a block that
    the end of the file cuts short.
    """
    size = channel.size
    if offset >= size:
        return size
    # A block start must occur within one maximal block of any offset.
    window = channel.read_at(offset, MAX_BLOCK_SIZE + STANDARD_HEADER_SIZE)
    i = window.find(_MAGIC3)
    while 0 <= i < MAX_BLOCK_SIZE:
        if _chains(channel, offset + i, blocks_to_check, size):
            return offset + i
        i = window.find(_MAGIC3, i + 1)
    if offset + MAX_BLOCK_SIZE >= size:
        return size  # offset lies inside the last block: no block starts after it
    raise BlockNotFoundError(
        f"no chain of {blocks_to_check} BGZF block headers starts in the {MAX_BLOCK_SIZE} bytes from here",
        channel.path,
        offset,
    )


def _chains(channel, start: int, blocks_to_check: int, size: int) -> bool:
    pos = start
    for _ in range(blocks_to_check):
        if pos == size:
            return True
        head = channel.read_at(pos, STANDARD_HEADER_SIZE)
        if header_prefix_size(head) > len(head):
            head = channel.read_at(pos, header_prefix_size(head))
        block_size = block_size_at(head)
        if block_size is None:
            return False
        if pos + block_size > size:
            # A full valid header (8 fixed bytes) whose block the file cuts short: this is
            # truncation, and answering "no block here" would silently drop its records.
            raise TruncatedError(
                f"BGZF block of {block_size} bytes runs past the end of the file ({size} bytes)",
                channel.path,
                pos,
            )
        pos += block_size
    return True
