"""Numbers to decimal text, many at once, in the forms SAM text uses (SAMv1 §1.5).

Integers are written right-aligned into the rows of a fixed-width byte matrix, one column
(decimal place) at a time for all values together, so a batch of small numbers costs a few
whole-array operations and no per-value work.  Row i's text is its last ``lengths[i]``
bytes; such ranges are ascending and disjoint, ready for :func:`ragged.take_byte_ranges`.

Floats must print the way samtools does (C's ``%g``: six significant digits, trailing zeros
dropped, exponent form outside 1e-4 .. 1e6).  Reproducing ``%g`` rounding with float
arithmetic would be subtly wrong in the last digit, so each *distinct* value is formatted by
Python's ``%g`` (the same C formatting rules) and the texts are spread back with an index.
Float tags are rare and repeat a lot, so the per-value Python work stays small.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .ragged import Ragged, pick_ragged, take_byte_ranges

_ZERO = ord("0")
_MINUS = ord("-")
# 10**k for k = 1..18: the number of digits of v is 1 + the count of powers <= v.
_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)


class IntegerRows(NamedTuple):
    """Right-aligned texts: row i ends with its text of ``lengths[i]`` bytes."""

    rows: np.ndarray  # uint8, (n, width)
    lengths: np.ndarray  # int64

    @property
    def starts(self) -> np.ndarray:
        """Where each text starts in ``rows`` flattened."""
        width = self.rows.shape[1]
        return np.arange(1, len(self.lengths) + 1, dtype=np.int64) * width - self.lengths


def decimal_digits(magnitudes: np.ndarray) -> np.ndarray:
    """Decimal digits of each non-negative int64 (1 for zero)."""
    return 1 + np.searchsorted(_POWERS_OF_TEN, magnitudes, side="right")


def integer_rows(values: np.ndarray, prefix: bytes = b"", suffix_columns: int = 0) -> IntegerRows:
    """``prefix`` + decimal text of each value, right-aligned before ``suffix_columns`` blank columns.

    The caller fills the suffix columns (a CIGAR op letter, for instance).  Small values,
    the usual case (edit distances, scores, CIGAR lengths), are looked up in a table.
    """
    values = np.asarray(values, dtype=np.int64)
    table = _small_integer_table(prefix, suffix_columns)
    small = (values >= _SMALL_MIN) & (values <= _SMALL_MAX)
    if small.all():
        index = values - _SMALL_MIN
        # Each 8-byte row gathered as one uint64: much faster than a 2-D fancy index.
        rows = table.rows.view("<u8").reshape(-1)[index].view(np.uint8).reshape(-1, _SMALL_WIDTH)
        return IntegerRows(rows, table.lengths[index])
    large = np.flatnonzero(~small)
    large_rows = _render_rows(values[large], prefix, suffix_columns)
    rows = np.zeros((len(values), max(_SMALL_WIDTH, large_rows.rows.shape[1])), dtype=np.uint8)
    lengths = np.empty(len(values), dtype=np.int64)
    index = values[small] - _SMALL_MIN
    rows[small, -_SMALL_WIDTH:] = table.rows[index]
    lengths[small] = table.lengths[index]
    rows[large, -large_rows.rows.shape[1]:] = large_rows.rows
    lengths[large] = large_rows.lengths
    return IntegerRows(rows, lengths)


def _render_rows(values: np.ndarray, prefix: bytes, suffix_columns: int, width: int = 0) -> IntegerRows:
    """:func:`integer_rows` computed digit by digit, ``width`` columns or as few as fit."""
    magnitude = np.abs(values)
    digits = decimal_digits(magnitude)
    negative = values < 0
    text_lengths = digits + negative + len(prefix)
    width = max(width, (int(text_lengths.max()) if len(values) else 0) + suffix_columns)
    rows = np.zeros((len(values), width), dtype=np.uint8)
    last_digit = width - suffix_columns - 1
    remaining = magnitude.astype(np.uint64)
    for place in range(int(digits.max()) if len(values) else 0):
        # Columns left of a value's first digit get junk zeros, outside its text.
        quotient = remaining // 10
        rows[:, last_digit - place] = _ZERO + (remaining - 10 * quotient)
        remaining = quotient
    row_index = np.arange(len(values))
    first_digit = last_digit + 1 - digits
    rows[row_index[negative], first_digit[negative] - 1] = _MINUS
    text_start = first_digit - negative - len(prefix)
    for k, byte in enumerate(prefix):
        rows[row_index, text_start + k] = byte
    return IntegerRows(rows, text_lengths + suffix_columns)


# The lookup table's range and row width: "i:-9999" and ",99999" fit in 8 bytes.
_SMALL_MIN, _SMALL_MAX = -9_999, 99_999
_SMALL_WIDTH = 8


@functools.lru_cache(maxsize=None)
def _small_integer_table(prefix: bytes, suffix_columns: int) -> IntegerRows:
    assert len(prefix) + 5 + suffix_columns <= _SMALL_WIDTH, "table rows too narrow"
    values = np.arange(_SMALL_MIN, _SMALL_MAX + 1, dtype=np.int64)
    return _render_rows(values, prefix, suffix_columns, width=_SMALL_WIDTH)


def format_integers(values: np.ndarray, prefix: bytes = b"") -> Ragged:
    """``prefix`` + decimal text of each value, back to back."""
    texts = integer_rows(values, prefix)
    return take_byte_ranges(texts.rows.reshape(-1), texts.starts, texts.lengths)


def format_floats(values: np.ndarray, prefix: bytes = b"") -> Ragged:
    """``prefix`` + ``%g`` text of each float32 value (as samtools prints ``f`` tags)."""
    values = np.asarray(values, dtype="<f4")
    # Distinct by bit pattern, so -0.0 and 0.0 (and NaN payloads) keep their own text.
    distinct_bits, which = np.unique(values.view("<u4"), return_inverse=True)
    distinct = distinct_float_texts(distinct_bits, prefix)
    which = which.reshape(-1).astype(np.int64)
    return pick_ragged([distinct], np.zeros_like(which), which)


def distinct_float_texts(bits: np.ndarray, prefix: bytes = b"") -> Ragged:
    """``prefix`` + ``%g`` text of each float32 given by its bit pattern (one Python call each:
    callers pass each distinct value once)."""
    texts = [prefix + _format_g(float(v)) for v in np.asarray(bits, dtype="<u4").view("<f4")]
    return Ragged(
        np.frombuffer(b"".join(texts), dtype=np.uint8),
        np.cumsum([0] + [len(t) for t in texts]).astype(np.int64),
    )


def _format_g(value: float) -> bytes:
    """C's ``%g``; glibc prints a NaN with its sign bit set as ``-nan``, Python never does."""
    if value != value and np.signbit(value):
        return b"-nan"
    return b"%g" % value
