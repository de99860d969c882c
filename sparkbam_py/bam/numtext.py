"""Numbers to decimal text, many at once, in the forms SAM text uses (SAMv1 §1.5).

Integers are written digit by digit with numpy: one pass per decimal place over the values
that still have digits left, so a million values cost about ten vectorised passes.

Floats must print the way samtools does (C's ``%g``: six significant digits, trailing zeros
dropped, exponent form outside 1e-4 .. 1e6).  Reproducing ``%g`` rounding with float
arithmetic would be subtly wrong in the last digit, so each *distinct* value is formatted by
Python's ``%g`` (the same C formatting rules) and the texts are spread back with an index.
Float tags are rare and repeat a lot, so the per-value Python work stays small.
"""
from __future__ import annotations

import numpy as np

from .ragged import Ragged, pick_ragged

_ZERO = ord("0")
_MINUS = ord("-")
# 10**k for k = 1..19: the number of digits of v is 1 + the count of powers <= v.
_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)
# Large enough for any int64 magnitude.
_MAX_DIGITS = 19


def decimal_widths(values: np.ndarray) -> np.ndarray:
    """Characters needed to print each int64 value in decimal, including a minus sign."""
    magnitude = np.abs(values.astype(np.int64))
    digits = 1 + np.searchsorted(_POWERS_OF_TEN, magnitude, side="right")
    return digits + (values < 0)


def format_integers(values: np.ndarray, before: int = 0, after: int = 0) -> Ragged:
    """Decimal text of each value, with ``before``/``after`` blank bytes reserved around it.

    The caller fills the reserved bytes (a separator before, an operator letter after...).
    """
    values = np.asarray(values, dtype=np.int64)
    widths = decimal_widths(values) + before + after
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(widths, out=offsets[1:])
    text = np.zeros(int(offsets[-1]), dtype=np.uint8)
    write_decimals(text, offsets[1:] - after, values)
    return Ragged(text, offsets)


def write_decimals(text: np.ndarray, ends: np.ndarray, values: np.ndarray) -> None:
    """Write each value's decimal digits (and sign) into ``text`` so that they end at ``ends``."""
    remaining = np.abs(values.astype(np.int64))
    position = ends.astype(np.int64) - 1
    todo = np.arange(len(values))
    for _ in range(_MAX_DIGITS):
        # Do-while: zero still prints one digit.
        text[position[todo]] = _ZERO + remaining[todo] % 10
        remaining[todo] //= 10
        position[todo] -= 1
        todo = todo[remaining[todo] > 0]
        if todo.size == 0:
            break
    negative = values < 0
    text[position[negative]] = _MINUS


def format_floats(values: np.ndarray, before: bytes = b"") -> Ragged:
    """``%g`` text of each float32 value (as samtools prints ``f`` tags), each after ``before``."""
    values = np.asarray(values, dtype="<f4")
    # Distinct by bit pattern, so -0.0 and 0.0 (and NaN payloads) keep their own text.
    distinct_bits, which = np.unique(values.view("<u4"), return_inverse=True)
    texts = [before + _format_g(float(v)) for v in distinct_bits.view("<f4")]
    distinct = Ragged(
        np.frombuffer(b"".join(texts), dtype=np.uint8),
        np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)]).astype(np.int64),
    )
    which = which.reshape(-1).astype(np.int64)
    return pick_ragged([distinct], np.zeros_like(which), which)


def _format_g(value: float) -> bytes:
    """C's ``%g``; glibc prints a NaN with its sign bit set as ``-nan``, Python never does."""
    if value != value and np.signbit(value):
        return b"-nan"
    return b"%g" % value

