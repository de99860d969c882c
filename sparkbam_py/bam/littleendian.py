"""Little-endian numbers read at many unaligned byte positions at once.

BAM stores every number little-endian (SAMv1 §4.2), and in the auxiliary data at arbitrary
byte offsets.  A numpy array may have a stride smaller than its item size: viewing a byte
buffer as, say, ``<u4`` with a stride of one byte gives "the uint32 starting at byte i" as
item i, so reading numbers at any positions is a single gather, sign handling included.
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
_DTYPE_OF_TYPE = {
    code: np.dtype(("<i" if signed else "<u") + str(width)) for code, (width, signed) in INTEGER_TYPES.items()
}
_DTYPE_OF_TYPE[FLOAT_TYPE] = np.dtype("<f4")
_UNSIGNED = {1: np.dtype("u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}


def at_every_byte(buffer: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A view of ``buffer`` whose item i is the ``dtype`` value starting at byte i."""
    count = max(len(buffer) - dtype.itemsize + 1, 0)
    return np.ndarray(shape=(count,), dtype=dtype, buffer=buffer, strides=(1,))


def read_unsigned(buffer: np.ndarray, positions: np.ndarray, width: int) -> np.ndarray:
    """The ``width``-byte unsigned integers starting at ``positions``, as int64."""
    return at_every_byte(buffer, _UNSIGNED[width])[positions].astype(np.int64)


def read_integers(buffer: np.ndarray, positions: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The integers at ``positions``, each of the SAM integer type in ``types`` (c C s S i I)."""
    if len(types) and types.min() == types.max():
        # The usual case: every value of one type (say NM, AS and XS all 'C').
        return at_every_byte(buffer, _DTYPE_OF_TYPE[int(types[0])])[positions].astype(np.int64)
    present = np.flatnonzero(np.bincount(types, minlength=256))
    values = np.zeros(len(positions), dtype=np.int64)
    for code in present:
        chosen = types == code
        values[chosen] = at_every_byte(buffer, _DTYPE_OF_TYPE[int(code)])[positions[chosen]]
    return values


def read_float32(buffer: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The IEEE float32 values at ``positions``."""
    return at_every_byte(buffer, _DTYPE_OF_TYPE[FLOAT_TYPE])[positions]
