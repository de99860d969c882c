"""Names of BGZF positions beside empty blocks, and the first block of a range.

htslib names the byte right after a block's data by the NEXT block, even an empty one, so
one place can have several names (``Pos(empty block, 0)`` and ``Pos(next data block, 0)``).
Ownership and boundary checks compare physical names (:func:`physical_pos`); names shown to
users follow htslib (:func:`htslib_pos`).  Shared by every BGZF format (BAM, bgzipped text).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..bgzf.constants import MIN_BLOCK_SIZE, TRAILER_SIZE
from ..bgzf.header import block_size_at
from ..pos import Pos

# An empty block carrying extra gzip subfields is still far smaller than this.
MAX_EMPTY_BLOCK_SIZE = 1024
# An empty block's trailer: CRC32 of no data (0) and ISIZE 0 (RFC 1952 §2.3.1).
_EMPTY_TRAILER = bytes(TRAILER_SIZE)


def physical_pos(reader, pos: Pos) -> Optional[Pos]:
    """``pos`` named by the block that holds its byte; None when no data follows it.

    Different names of one place (``Pos(empty block, 0)`` and ``Pos(next data block, 0)``)
    map to the same physical name, so boundaries can be compared across runs.
    """
    run = reader.read_run(pos.block_pos, pos.offset + 1)
    if len(run) <= pos.offset:
        return None
    k = int(np.searchsorted(run.data_starts, pos.offset, side="right")) - 1
    return Pos(int(run.block_starts[k]), pos.offset - int(run.data_starts[k]))


def htslib_pos(channel, pos: Pos) -> Pos:
    """``pos`` as htslib's ``tell()`` names it: a block start preceded by empty blocks is
    named by the first of them (htslib moves on to the next block once one is used up)."""
    if pos.offset:
        return pos
    block = pos.block_pos
    while True:
        previous = empty_block_before(channel, block)
        if previous is None:
            return Pos(block, 0)
        block = previous


def empty_block_before(channel, block: int) -> Optional[int]:
    """The start of an empty block ending exactly at ``block``, if there is one."""
    if block < MIN_BLOCK_SIZE or channel.read_at(block - TRAILER_SIZE, TRAILER_SIZE) != _EMPTY_TRAILER:
        return None  # the common case: the previous block holds data, so its ISIZE is not 0
    low = max(0, block - MAX_EMPTY_BLOCK_SIZE)
    window = channel.read_at(low, block - low)
    for size in range(MIN_BLOCK_SIZE, len(window) + 1):
        if block_size_at(window, len(window) - size) == size:
            return block - size
    return None


def first_block_in_range(reader, offset: int, blocks_to_check: int, stop: Optional[Pos] = None) -> Optional[int]:
    """The first block starting at or after ``offset`` (chained headers), or None when it
    is at or past ``stop`` or the end of the file."""
    if offset >= reader.size:
        return None
    block = reader.find_block_start(offset, blocks_to_check)
    if block >= reader.size or (stop is not None and Pos(block, 0) >= stop):
        return None
    return block
