"""Compiled kernel (numba) laying out a VCF line's sample columns in one pass.

:func:`~.vcf_write_genotypes.format_and_samples` holds one column per FORMAT key over every
genotype of a batch (line-major): text (``GT``, strings, floats) or integers (``AD``,
``DP``, ``GQ``, ``PL``: lists or single values).  The Arrow path turns the integers into
text, joins each genotype's values with ``:`` (``binary_join_element_wise``), then the
genotypes of a line with tabs (``binary_join``): three passes over every byte through
per-element kernels.  Here each line's sample text is written once, integers printed
straight into it (:func:`~.write_kernels.write_int`), giving the same bytes.

Imported only where :func:`~.write_fields.compiled_write_kernels` finds the compiled path
selected; a test checks both paths agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .write_kernels import write_int

COLON, COMMA, TAB, DOT = 0x3A, 0x2C, 0x09, 0x2E
TEXT, INTEGERS = 0, 1  # the kinds of key column
# Bytes an int64 can print as ("-9223372036854775807"), with its separator.
INT_TEXT_BOUND = 21


def text_bound(data_bytes: int, numbers: int, genotypes: int, keys: int) -> int:
    """Bytes :func:`sample_lines_text` can write at most: every text byte, every number at
    its widest, and per genotype one ``.`` and one separator per key and a tab."""
    return data_bytes + INT_TEXT_BOUND * numbers + genotypes * (2 * keys + 2) + 1


@njit(cache=True, nogil=True)
def sample_lines_text(kinds, data, numbers, number_valid, offsets, valid, line_has, samples, bound):
    """Each line's ``samples`` genotypes, tab-joined, each the ``:``-joined values of the keys
    its line lists (``line_has[key, line]``).

    Key ``c`` of genotype ``g`` spans ``offsets[c, g]:offsets[c, g + 1]`` of ``data`` (its
    bytes, ``kinds[c] == TEXT``) or of ``numbers`` (integers printed in decimal joined by
    ``,``, ``number_valid`` false: ``.``; ``kinds[c] == INTEGERS``).  ``valid[c, g]`` false:
    a null value, written ``.``.  A genotype whose text would be empty is ``.`` too.
    ``bound``: :func:`text_bound`.  Returns ``(uint8 text, int64 line offsets)``.
    """
    rows = line_has.shape[1]
    line_offsets = np.empty(rows + 1, dtype=np.int64)
    line_offsets[0] = 0
    text = np.empty(bound, dtype=np.uint8)
    at = 0
    for row in range(rows):
        for s in range(samples):
            g = row * samples + s
            if s:
                text[at] = TAB
                at += 1
            begin, keys = at, 0
            for c in range(kinds.shape[0]):
                if not line_has[c, row]:
                    continue
                if keys:
                    text[at] = COLON
                    at += 1
                keys += 1
                if not valid[c, g]:
                    text[at] = DOT
                    at += 1
                elif kinds[c] == TEXT:
                    for k in range(offsets[c, g], offsets[c, g + 1]):
                        text[at] = data[k]
                        at += 1
                else:  # the list loop written out here: as a call (even inlined) it took 40% longer
                    first = offsets[c, g]
                    for k in range(first, offsets[c, g + 1]):
                        if k > first:
                            text[at] = COMMA
                            at += 1
                        if number_valid[k]:
                            at = write_int(text, at, numbers[k])
                        else:
                            text[at] = DOT
                            at += 1
            if at == begin:
                text[at] = DOT
                at += 1
        line_offsets[row + 1] = at
    return text[:at], line_offsets
