"""Inflate one BGZF block's deflate payload, checking ISIZE (and CRC32 on request).

isal's inflate is ~2.5x zlib's here (ARCHITECTURE.md measurements); zlib is the fallback
where isal has no wheel.
"""
from __future__ import annotations

import struct
import zlib
from typing import Optional

from ..errors import CorruptBlockError
from .constants import MAX_INFLATED_SIZE, TRAILER_SIZE
from .header import BlockHeader

try:  # pragma: no cover - depends on the platform's wheels
    from isal import isal_zlib as _inflater

    INFLATE_BACKEND = "isal"
except ImportError:  # pragma: no cover
    _inflater = zlib
    INFLATE_BACKEND = "zlib"
# isal's CRC32 (carry-less multiply) runs ~15x faster than zlib's here: checksums stay cheap.
_crc32 = _inflater.crc32

_TRAILER = struct.Struct("<II")  # RFC 1952: CRC32, ISIZE
RAW_DEFLATE_WBITS = -15  # a raw deflate stream: no zlib/gzip wrapper of its own


def block_isize(raw: bytes, header: BlockHeader) -> int:
    """The inflated size the block's trailer promises."""
    return _TRAILER.unpack_from(raw, header.block_size - TRAILER_SIZE)[1]


def inflate_block(raw: bytes, header: BlockHeader, path: Optional[str] = None, check_crc: bool = False) -> bytes:
    """The inflated data of the block whose bytes are ``raw`` (exactly ``block_size`` long)."""
    crc, isize = _TRAILER.unpack_from(raw, header.block_size - TRAILER_SIZE)
    if isize > MAX_INFLATED_SIZE:
        raise CorruptBlockError(f"ISIZE {isize} exceeds the 64 KiB BGZF limit", path, header.start)
    payload = memoryview(raw)[header.header_size : header.block_size - TRAILER_SIZE]
    try:
        data = _inflater.decompress(payload, RAW_DEFLATE_WBITS, max(isize, 1))
    except Exception as exc:  # isal and zlib raise their own error types
        raise CorruptBlockError(f"deflate data is corrupt ({exc})", path, header.start) from None
    if len(data) != isize:
        raise CorruptBlockError(f"inflated {len(data)} bytes but ISIZE says {isize}", path, header.start)
    if check_crc and _crc32(data) != crc:
        raise CorruptBlockError(f"CRC32 mismatch ({_crc32(data):#010x} != {crc:#010x})", path, header.start)
    return data
