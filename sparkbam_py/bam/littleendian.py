"""Little-endian integers and floats read at many unaligned positions of a byte buffer at once.

BAM stores every number little-endian (SAMv1 §4.2) and, in the auxiliary data, at
arbitrary byte offsets, so a structured view does not apply: the bytes are gathered
one place at a time and combined.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

# SAMv1 §4.2.4: integer value types and array subtypes -> (bytes, signed).
INTEGER_TYPES: Dict[int, Tuple[int, bool]] = {
    ord("c"): (1, True),
    ord("C"): (1, False),
    ord("s"): (2, True),
    ord("S"): (2, False),
    ord("i"): (4, True),
    ord("I"): (4, False),
}
FLOAT_TYPE = ord("f")


def read_unsigned(buffer: np.ndarray, positions: np.ndarray, width: int) -> np.ndarray:
    """The ``width``-byte unsigned integers starting at ``positions``, as int64."""
    value = buffer[positions].astype(np.int64)
    for k in range(1, width):
        value |= buffer[positions + k].astype(np.int64) << (8 * k)
    return value


def _type_table(pick) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for code, (width, signed) in INTEGER_TYPES.items():
        table[code] = pick(width, signed)
    return table


# Per integer type: the mask of its value bits, and its sign bit (0 when unsigned).
_VALUE_MASK = _type_table(lambda width, signed: (1 << (8 * width)) - 1)
_SIGN_BIT = _type_table(lambda width, signed: 1 << (8 * width - 1) if signed else 0)
_WIDTH = _type_table(lambda width, signed: width)


def read_integers(buffer: np.ndarray, positions: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The integers at ``positions``, each of the SAM integer type in ``types`` (c C s S i I).

    All widths are read the same way, four bytes then masked, so mixed types cost no grouping;
    bytes past the end of ``buffer`` are read as its last byte and masked away.
    """
    last = len(buffer) - 1
    value = buffer[positions].astype(np.int64)
    # Only as many bytes as the widest type present (often one: small unsigned tags).
    widest = int(_WIDTH[types].max()) if len(types) else 1
    for k in range(1, widest):
        value |= buffer[np.minimum(positions + k, last)].astype(np.int64) << (8 * k)
    value &= _VALUE_MASK[types]
    # Two's complement: subtracting twice the sign bit maps e.g. 0xFF to -1 for type 'c'.
    return value - ((value & _SIGN_BIT[types]) << 1)


def read_float32(buffer: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The IEEE float32 values at ``positions``."""
    return read_unsigned(buffer, positions, 4).astype("<u4").view("<f4")
