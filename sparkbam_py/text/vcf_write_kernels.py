"""Compiled kernel (numba) laying out a VCF line's sample columns in one pass.

:func:`~.vcf_write_genotypes.sample_columns_text` holds one text column per FORMAT key over
every genotype of a batch (line-major).  The Arrow path joins them per genotype with ``:``
(``binary_join_element_wise``), then the genotypes of a line with tabs (``binary_join``): two
copies of every byte through per-element kernels, ~20% of a VCF task.  Here each line's
sample text is written once, straight from the key columns' buffers, giving the same bytes.

Imported only where :func:`~.write_fields.compiled_write_kernels` finds the compiled path
selected; a test checks both paths agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

COLON, TAB, DOT = 0x3A, 0x09, 0x2E


@njit(cache=True, nogil=True)
def _genotype_size(offsets, valid, line_has, row, g):
    """Bytes of genotype ``g``'s text: its line's keys' values joined by ``:`` (null: ``.``)."""
    size, keys = 0, 0
    for c in range(offsets.shape[0]):
        if not line_has[c, row]:
            continue
        if keys:
            size += 1
        keys += 1
        size += offsets[c, g + 1] - offsets[c, g] if valid[c, g] else 1
    return size


@njit(cache=True, nogil=True)
def sample_lines_text(data, offsets, valid, line_has, samples):
    """Each line's ``samples`` genotypes, tab-joined, each the ``:``-joined values of the keys
    its line lists (``line_has[key, line]``).

    ``data``: every key column's bytes, one after another; ``offsets[key, g]``: where genotype
    ``g``'s value of ``key`` starts in ``data`` (``offsets[key, g + 1]`` its end); ``valid``
    false: a null value, written ``.``.  A genotype whose text would be empty is ``.`` too.
    Returns ``(uint8 text, int64 line offsets)``.
    """
    rows = line_has.shape[1]
    line_offsets = np.empty(rows + 1, dtype=np.int64)
    line_offsets[0] = 0
    total = 0
    for row in range(rows):
        for s in range(samples):
            g = row * samples + s
            size = _genotype_size(offsets, valid, line_has, row, g)
            total += max(size, 1) + (1 if s else 0)
        line_offsets[row + 1] = total
    text = np.empty(total, dtype=np.uint8)
    at = 0
    for row in range(rows):
        for s in range(samples):
            g = row * samples + s
            if s:
                text[at] = TAB
                at += 1
            begin, keys = at, 0
            for c in range(offsets.shape[0]):
                if not line_has[c, row]:
                    continue
                if keys:
                    text[at] = COLON
                    at += 1
                keys += 1
                if not valid[c, g]:
                    text[at] = DOT
                    at += 1
                    continue
                for k in range(offsets[c, g], offsets[c, g + 1]):
                    text[at] = data[k]
                    at += 1
            if at == begin:
                text[at] = DOT
                at += 1
    return text, line_offsets
