"""Names of BGZF positions beside empty blocks, and the first block of a range.

htslib names the byte right after a block's data by the NEXT block, even an empty one, so
one place can have several names (``Pos(empty block, 0)`` and ``Pos(next data block, 0)``).
Ownership and boundary checks compare physical names (:func:`physical_pos`); names shown to
users follow htslib (:func:`htslib_pos`).  Shared by every BGZF format (BAM, bgzipped text).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..bgzf.constants import (
    CM_DEFLATE,
    GZIP_ID1,
    GZIP_ID2,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    STANDARD_HEADER_SIZE,
    TRAILER_SIZE,
)
from ..bgzf.header import block_size_at, parse_block_header
from ..bgzf.inflate import inflate_block
from ..errors import BlockNotFoundError, CorruptDataError
from ..pos import Pos

# SAMv1 §4.1: in the standard header (XLEN 6, only the BC subfield) BSIZE sits at bytes 16-17.
BSIZE_OFFSET = 16
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


def block_before(channel, block: int) -> Optional[int]:
    """The start of the block ending exactly at compressed offset ``block`` (None at 0).

    Found from the bytes just before ``block`` alone (a block is at most 64 KiB, SAMv1
    §4.1): a candidate header whose BSIZE reaches exactly ``block``, confirmed by inflating
    it with its CRC32 checked, so a gzip-magic look-alike inside deflate data cannot pass.
    """
    if block <= 0:
        return None
    low = max(0, block - MAX_BLOCK_SIZE)
    window = channel.read_at(low, block - low)
    data = np.frombuffer(window, dtype=np.uint8)
    magic = np.flatnonzero((data[:-2] == GZIP_ID1) & (data[1:-1] == GZIP_ID2) & (data[2:] == CM_DEFLATE))
    # Most headers are the standard 18 bytes with BSIZE at 16 (SAMv1 §4.1): test those
    # first, all at once; headers with other extra subfields go through block_size_at.
    standard = magic[magic + STANDARD_HEADER_SIZE <= len(window)]
    bsize = data[standard + BSIZE_OFFSET].astype(np.int64) | (data[standard + BSIZE_OFFSET + 1].astype(np.int64) << 8)
    likely = standard[bsize + 1 == len(window) - standard]
    for i in likely.tolist() + magic.tolist():
        if block_size_at(window, i) == len(window) - i and _inflates(window[i:], low + i, channel.path):
            return low + i
    raise BlockNotFoundError(f"no BGZF block ends at compressed byte {block} (corrupt data before it?)",
                             channel.path, block)


def _inflates(raw: bytes, start: int, path) -> bool:
    try:
        inflate_block(raw, parse_block_header(raw, start, path), path, verify_checksums=True)
    except CorruptDataError:
        return False
    return True
