"""Parse and validate BGZF block headers (SAMv1 §4.1, RFC 1952 §2.3).

Two entry points: :func:`parse_block_header` raises a typed error naming the offset, for
readers; :func:`block_size_at` answers ``None`` instead, for the block search, where "not a
header here" is the common case and not an error.
"""
from __future__ import annotations

import struct
from typing import NamedTuple, Optional

from ..errors import CorruptBlockError
from .constants import (
    BC_SI1,
    BC_SI2,
    BC_SLEN,
    CM_DEFLATE,
    FIXED_HEADER_SIZE,
    FLG_FEXTRA,
    GZIP_ID1,
    GZIP_ID2,
    MIN_BLOCK_SIZE,
    STANDARD_HEADER_SIZE,
    SUBFIELD_HEADER_SIZE,
    TRAILER_SIZE,
    XLEN_OFFSET,
)

_UINT16 = struct.Struct("<H")
# The common case in one comparison: XLEN = 6 and BC/SLEN=2 first (SAMv1 §4.1).
_STANDARD_EXTRA = bytes([6, 0, BC_SI1, BC_SI2, BC_SLEN, 0])
# BGZF fixes FLG to FEXTRA alone; FNAME/FCOMMENT/FHCRC would move the deflate data.
_FLG_OTHER_BITS = 0xFF & ~FLG_FEXTRA


class BlockHeader(NamedTuple):
    """Where a block sits and how it is laid out: all in compressed bytes."""

    start: int
    header_size: int  # 12 + XLEN
    block_size: int  # BSIZE + 1: header, deflate payload and trailer

    @property
    def end(self) -> int:
        return self.start + self.block_size

    @property
    def payload_size(self) -> int:
        return self.block_size - self.header_size - TRAILER_SIZE


def header_prefix_size(buf: bytes, i: int = 0) -> int:
    """How many bytes the header at ``buf[i:]`` needs (12 + XLEN); at least 18."""
    if len(buf) - i < FIXED_HEADER_SIZE:
        return STANDARD_HEADER_SIZE
    return FIXED_HEADER_SIZE + _UINT16.unpack_from(buf, i + XLEN_OFFSET)[0]


def block_size_at(buf: bytes, i: int = 0) -> Optional[int]:
    """The block size (BSIZE + 1) if ``buf[i:]`` holds a whole valid BGZF header, else None."""
    problem, size = _check_header(buf, i)
    return None if problem else size


def parse_block_header(buf: bytes, start: int, path: Optional[str] = None, i: int = 0) -> BlockHeader:
    """Validate the header at ``buf[i:]`` (block at compressed ``start``) or raise."""
    problem, size = _check_header(buf, i)
    if problem:
        raise CorruptBlockError(f"invalid BGZF block header: {problem}", path, start)
    return BlockHeader(start, header_prefix_size(buf, i), size)


def _check_header(buf: bytes, i: int):
    """(problem, block_size): problem is None for a valid header, else a short reason."""
    if len(buf) - i < STANDARD_HEADER_SIZE:
        return "fewer than 18 bytes", 0
    if buf[i] != GZIP_ID1 or buf[i + 1] != GZIP_ID2:
        return "no gzip magic 1f 8b", 0
    if buf[i + 2] != CM_DEFLATE:
        return f"compression method {buf[i + 2]}, not deflate (8)", 0
    flg = buf[i + 3]
    if not flg & FLG_FEXTRA or flg & _FLG_OTHER_BITS:
        return f"FLG {flg:#04x}, BGZF requires FEXTRA (0x04) alone", 0
    if buf[i + XLEN_OFFSET : i + XLEN_OFFSET + 6] == _STANDARD_EXTRA:
        bsize_at = i + STANDARD_HEADER_SIZE - 2
        return _check_size(_UINT16.unpack_from(buf, bsize_at)[0] + 1, STANDARD_HEADER_SIZE)
    return _check_extra_field(buf, i)


def _check_extra_field(buf: bytes, i: int):
    """Walk the extra subfields (RFC 1952 §2.3.1.1) looking for BC anywhere in them."""
    xlen = _UINT16.unpack_from(buf, i + XLEN_OFFSET)[0]
    end = i + FIXED_HEADER_SIZE + xlen
    if end > len(buf):
        return "extra field runs past the available bytes", 0
    j = i + FIXED_HEADER_SIZE
    size = None
    while j + SUBFIELD_HEADER_SIZE <= end:
        slen = _UINT16.unpack_from(buf, j + 2)[0]
        if j + SUBFIELD_HEADER_SIZE + slen > end:
            return "extra subfield overruns XLEN", 0
        if buf[j] == BC_SI1 and buf[j + 1] == BC_SI2:
            if slen != BC_SLEN or size is not None:
                return "malformed or repeated BC subfield", 0
            size = _UINT16.unpack_from(buf, j + SUBFIELD_HEADER_SIZE)[0] + 1
        j += SUBFIELD_HEADER_SIZE + slen
    if j != end:
        return "extra subfields do not fill XLEN exactly", 0
    if size is None:
        return "no BC subfield (gzip, but not BGZF)", 0
    return _check_size(size, FIXED_HEADER_SIZE + xlen)


def _check_size(block_size: int, header_size: int):
    if block_size < max(MIN_BLOCK_SIZE, header_size + TRAILER_SIZE + 2):
        return f"BSIZE {block_size - 1} too small for a block", 0
    return None, block_size
