"""Compiled writer kernels (numba): integer lists as decimal text, joined by a separator.

Imported only where :func:`compiled_write_kernels` finds the compiled path selected
(:mod:`sparkbam_py.kernels`); :func:`.write_fields.joined_list` keeps the Arrow path
(``cast`` to string, then ``binary_join``), which gives identical text (a test checks they
agree).  A VCF's FORMAT values are mostly integer lists (``AD``, ``PL``) and integers
(``DP``, ``GQ``): one pass over the digits instead of a string per number, then a join.
"""
from __future__ import annotations

import numpy as np
from numba import njit

MINUS = 0x2D  # "-"
ZERO = 0x30  # "0"


@njit(cache=True, nogil=True)
def _digits(value):
    """Characters of ``value`` in decimal (a sign included); never INT64_MIN."""
    count = 1
    magnitude = value
    if value < 0:
        count = 2
        magnitude = -value
    bound = 10
    while magnitude >= bound and count < 20:  # comparisons, not divisions: most values are short
        count += 1
        if bound > 922337203685477580:  # 10**18: the next power would overflow int64
            break
        bound *= 10
    return count


@njit(cache=True, nogil=True)
def int_lists_text(values, element_valid, offsets, separator, missing):
    """Each list ``values[offsets[i]:offsets[i+1]]`` as decimal text joined by ``separator``
    (invalid elements as ``missing``); ``(uint8 text, int64 offsets)``, ``""`` for an empty list."""
    lists = len(offsets) - 1
    out_offsets = np.empty(lists + 1, dtype=np.int64)
    out_offsets[0] = 0
    total = 0
    for i in range(lists):
        for k in range(offsets[i], offsets[i + 1]):
            if k > offsets[i]:
                total += 1
            total += _digits(values[k]) if element_valid[k] else 1
        out_offsets[i + 1] = total
    text = np.empty(total, dtype=np.uint8)
    at = 0
    for i in range(lists):
        at = write_int_list(text, at, values, element_valid, offsets[i], offsets[i + 1], separator, missing)
    return text, out_offsets


@njit(cache=True, nogil=True, inline="always")
def write_int(text, at, value):
    """``value`` (never INT64_MIN) written into ``text`` from ``at`` in decimal; where it ends.
    Values under 1,000 (most depths, qualities and likelihoods) take branches of their own:
    the sample-column pass takes a third less time than with one digit loop for all."""
    if value < 0:
        text[at] = MINUS
        at += 1
        value = -value
    if value < 10:
        text[at] = ZERO + value
        return at + 1
    if value < 100:
        tens = value // 10
        text[at] = ZERO + tens
        text[at + 1] = ZERO + value - 10 * tens
        return at + 2
    if value < 1000:
        hundreds = value // 100
        rest = value - 100 * hundreds
        tens = rest // 10
        text[at] = ZERO + hundreds
        text[at + 1] = ZERO + tens
        text[at + 2] = ZERO + rest - 10 * tens
        return at + 3
    end = at + _digits(value)
    position = end - 1
    while value:
        text[position] = ZERO + value % 10
        value //= 10
        position -= 1
    return end


@njit(cache=True, nogil=True)
def write_int_list(text, at, values, element_valid, begin, end, separator, missing):
    """``values[begin:end]`` written into ``text`` from ``at`` as decimal text joined by
    ``separator`` (invalid elements as ``missing``); where the text ends."""
    for k in range(begin, end):
        if k > begin:
            text[at] = separator
            at += 1
        if element_valid[k]:
            at = write_int(text, at, values[k])
        else:
            text[at] = missing
            at += 1
    return at
