"""CRAM's variable-length integers: ITF-8 and LTF-8 (CRAMv3 §2.3 "Writing bytes to a byte stream").

ITF-8 stores a signed 32-bit integer in 1 to 5 bytes: the count of leading 1 bits of the
first byte (0 to 4) says how many bytes follow; a 5-byte value keeps only the low 4 bits of
its last byte.  LTF-8 does the same for 64-bit integers in 1 to 9 bytes (a first byte of
0xFF is followed by all 8 bytes of the value).

Scalar decoders return ``None`` when the buffer ends inside the number (truncation is the
caller's to report, with a path and an offset).  :func:`itf8_many` decodes one ITF-8 at many
positions at once; the container search uses it to drop impossible candidates with numpy
before anything is parsed one by one.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

# ITF-8 first byte >> 4 -> bytes that follow, and the mask of the first byte's value bits.
_ITF8_EXTRA = np.array([0] * 8 + [1] * 4 + [2] * 2 + [3, 4], dtype=np.int64)
_ITF8_MASK = np.array([0x7F] * 8 + [0x3F] * 4 + [0x1F] * 2 + [0x0F, 0x0F], dtype=np.int64)
# The same tables as tuples: scalar lookups in numpy arrays cost a microsecond each.
_EXTRA, _MASK = tuple(int(n) for n in _ITF8_EXTRA), tuple(int(m) for m in _ITF8_MASK)
ITF8_MAX_BYTES = 5
LTF8_MAX_BYTES = 9
_INT32_SPAN, _INT64_SPAN = 1 << 32, 1 << 64


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def read_itf8(buf, pos: int) -> Optional[Tuple[int, int]]:
    """``(value, position after it)`` of the ITF-8 at ``buf[pos]``; None if the buffer ends first."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    extra = _EXTRA[first >> 4]
    if pos + extra >= len(buf):
        return None
    if extra == 4:
        value = ((first & 0x0F) << 28 | buf[pos + 1] << 20 | buf[pos + 2] << 12
                 | buf[pos + 3] << 4 | (buf[pos + 4] & 0x0F))
        return _signed(value, 32), pos + 5
    value = first & _MASK[first >> 4]
    for k in range(1, extra + 1):
        value = value << 8 | buf[pos + k]
    return _signed(value, 32), pos + extra + 1


def read_ltf8(buf, pos: int) -> Optional[Tuple[int, int]]:
    """``(value, position after it)`` of the LTF-8 at ``buf[pos]``; None if the buffer ends first."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    extra = 0
    while extra < 8 and first & (0x80 >> extra):
        extra += 1
    if pos + extra >= len(buf):
        return None
    # 0xFE keeps no value bits in the first byte; 0xFF is followed by the whole 64 bits.
    value = first & ((0xFF >> (extra + 1)) if extra < 7 else 0)
    for k in range(1, extra + 1):
        value = value << 8 | buf[pos + k]
    return _signed(value & (_INT64_SPAN - 1), 64), pos + extra + 1


def itf8_many(data: np.ndarray, positions: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The ITF-8 values at every position of ``data`` (uint8), and the positions after them.

    ``data`` must extend at least :data:`ITF8_MAX_BYTES` bytes past the last position.
    """
    first = data[positions].astype(np.int64)
    extra = _ITF8_EXTRA[first >> 4]
    b1, b2, b3, b4 = (data[positions + k].astype(np.int64) for k in range(1, 5))
    value = first & _ITF8_MASK[first >> 4]
    value = np.select(
        [extra == 0, extra == 1, extra == 2, extra == 3],
        [value, value << 8 | b1, value << 16 | b1 << 8 | b2, value << 24 | b1 << 16 | b2 << 8 | b3],
        value << 28 | b1 << 20 | b2 << 12 | b3 << 4 | (b4 & 0x0F),
    )
    value = np.where(value >= 1 << 31, value - _INT32_SPAN, value)
    return value, positions + extra + 1


def encode_itf8(value: int) -> bytes:
    """The ITF-8 bytes of a signed 32-bit ``value`` (tests and synthetic containers use it)."""
    unsigned = value & (_INT32_SPAN - 1)
    if unsigned < 1 << 7:
        return bytes([unsigned])
    if unsigned < 1 << 14:
        return bytes([0x80 | unsigned >> 8, unsigned & 0xFF])
    if unsigned < 1 << 21:
        return bytes([0xC0 | unsigned >> 16, unsigned >> 8 & 0xFF, unsigned & 0xFF])
    if unsigned < 1 << 28:
        return bytes([0xE0 | unsigned >> 24, unsigned >> 16 & 0xFF, unsigned >> 8 & 0xFF, unsigned & 0xFF])
    return bytes([0xF0 | unsigned >> 28, unsigned >> 20 & 0xFF, unsigned >> 12 & 0xFF,
                  unsigned >> 4 & 0xFF, unsigned & 0x0F])


def encode_ltf8(value: int) -> bytes:
    """The LTF-8 bytes of a signed 64-bit ``value``."""
    unsigned = value & (_INT64_SPAN - 1)
    for extra in range(8):
        # ``extra`` leading 1 bits leave 7 * (extra + 1) value bits in all.
        if unsigned < 1 << 7 * (extra + 1):
            prefix = (0xFF00 >> extra) & 0xFF
            body = unsigned.to_bytes(extra + 1, "big")
            return bytes([prefix | body[0]]) + body[1:]
    return b"\xff" + unsigned.to_bytes(8, "big")
