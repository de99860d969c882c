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


def read_integers(buffer: np.ndarray, positions: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The integers at ``positions``, each of the SAM integer type in ``types`` (c C s S i I)."""
    values = np.zeros(len(positions), dtype=np.int64)
    for code, (width, signed) in INTEGER_TYPES.items():
        chosen = types == code
        if not chosen.any():
            continue
        value = read_unsigned(buffer, positions[chosen], width)
        if signed:
            # Two's complement: values with the top bit set are negative.
            value = np.where(value >= 1 << (8 * width - 1), value - (1 << (8 * width)), value)
        values[chosen] = value
    return values


def read_float32(buffer: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The IEEE float32 values at ``positions``."""
    return read_unsigned(buffer, positions, 4).astype("<u4").view("<f4")
