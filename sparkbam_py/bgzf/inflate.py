"""Inflate one BGZF block's deflate payload, checking ISIZE and (by default) CRC32.

isal's inflate is ~2.5x zlib's here (ARCHITECTURE.md measurements); zlib is the fallback
where isal has no wheel.  The CRC32 of every inflated block is checked unless the caller
turns it off: deflate alone cannot notice a changed byte in a stored block or a flipped
bit that still decodes, and htslib checks it too.  isal's crc32 uses the CPU's carry-less
multiply and costs ~3% of inflating the same block (``bench/bench_crc.py``); zlib's costs
~40%, so it is used only where isal is missing.
"""
from __future__ import annotations

import struct
import zlib
from typing import Optional

from ..errors import CorruptBlockError, TruncatedError
from .constants import MAX_INFLATED_SIZE, STANDARD_HEADER_SIZE, TRAILER_SIZE
from .header import BlockHeader, parse_block_header

try:  # pragma: no cover - depends on the platform's wheels
    from isal import isal_zlib as _inflater

    INFLATE_BACKEND = "isal"
except ImportError:  # pragma: no cover
    _inflater = zlib
    INFLATE_BACKEND = "zlib"

crc32 = _inflater.crc32
_TRAILER = struct.Struct("<II")  # RFC 1952 §2.3.1: CRC32, ISIZE
RAW_DEFLATE_WBITS = -15  # a raw deflate stream: no zlib/gzip wrapper of its own


def block_isize(raw: bytes, header: BlockHeader) -> int:
    """The inflated size the block's trailer promises."""
    return _TRAILER.unpack_from(raw, header.block_size - TRAILER_SIZE)[1]


def inflate_block(raw: bytes, header: BlockHeader, path: Optional[str] = None,
                  verify_checksums: bool = True) -> bytes:
    """The inflated data of the block whose bytes are ``raw`` (exactly ``block_size`` long).

    Raises CorruptBlockError for corrupt deflate data, an ISIZE that disagrees, or (unless
    ``verify_checksums`` is False) a CRC32 that disagrees with the inflated data.
    """
    expected_crc, isize = _TRAILER.unpack_from(raw, header.block_size - TRAILER_SIZE)
    if isize > MAX_INFLATED_SIZE:
        raise CorruptBlockError(f"ISIZE {isize} exceeds the 64 KiB BGZF limit", path, header.start)
    payload = memoryview(raw)[header.header_size : header.block_size - TRAILER_SIZE]
    try:
        data = _inflater.decompress(payload, RAW_DEFLATE_WBITS, max(isize, 1))
    except Exception as exc:  # isal and zlib raise their own error types
        raise CorruptBlockError(f"deflate data is corrupt ({exc})", path, header.start) from None
    if len(data) != isize:
        raise CorruptBlockError(f"inflated {len(data)} bytes but ISIZE says {isize}", path, header.start)
    if verify_checksums:
        check_crc32(data, expected_crc, path, header.start)
    return data


def check_crc32(data: bytes, expected: int, path: Optional[str], block_start: int) -> None:
    """Raise CorruptBlockError unless ``data``'s CRC32 is ``expected`` (the block's trailer)."""
    actual = crc32(data)
    if actual != expected:
        raise CorruptBlockError(
            f"CRC32 mismatch in the BGZF block: the trailer says {expected:#010x}, "
            f"the inflated data has {actual:#010x}", path, block_start)


def inflate_bgzf_bytes(data: bytes, path: Optional[str] = None, verify_checksums: bool = True) -> bytes:
    """The concatenated data of every BGZF block in ``data`` (a whole small file: an index).

    Each block goes through :func:`inflate_block`, so a bad block is a CorruptBlockError
    naming its offset (and both checksums on a CRC32 mismatch); a cut-off block is a
    TruncatedError.
    """
    parts, pos, view = [], 0, memoryview(data)
    while pos < len(data):
        if len(data) - pos < STANDARD_HEADER_SIZE:
            raise TruncatedError(f"the data ends {len(data) - pos} bytes into a BGZF block header", path, pos)
        header = parse_block_header(data, pos, path, pos)
        if header.end > len(data):
            raise TruncatedError(f"BGZF block of {header.block_size} bytes is cut off after {len(data) - pos}",
                                 path, pos)
        parts.append(inflate_block(view[pos : header.end], header, path, verify_checksums))
        pos = header.end
    return b"".join(parts)
