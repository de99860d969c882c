"""Where a writer ends BGZF blocks: htslib's rule, so records rarely straddle two blocks.

htslib (``bam_write1`` -> ``bgzf_flush_try`` then ``bgzf_write``) ends the open block before
a record that would not fit in what is left of it, and ends a block whenever it is exactly
full (0xff00 bytes); a record longer than a block fills whole blocks and goes on in the next.
Cutting the same way gives samtools' blocks for samtools' records, so with the same deflate
library and level the output has samtools' size (measured: equal block sizes), and a record
can be read from one block.
"""
from __future__ import annotations

import numpy as np

from ..kernels import compiled


def block_cuts(sizes: np.ndarray, open_fill: int, block_size: int) -> np.ndarray:
    """Where blocks end, as offsets from the start of the open block, when records of
    ``sizes`` bytes are appended to it after the ``open_fill`` bytes it already holds.

    Bytes after the last cut stay in the (new) open block.  int64, ascending.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    kernel = compiled(block_cuts_kernel)
    # At most one cut before each record, plus one per full block of data.
    cuts = np.empty(len(sizes) + (open_fill + int(sizes.sum())) // block_size + 1, dtype=np.int64)
    count = (kernel or block_cuts_kernel)(sizes, open_fill, block_size, cuts)
    return cuts[:count]


def block_cuts_kernel(sizes, open_fill, block_size, cuts):
    """Fill ``cuts`` (see :func:`block_cuts`); returns how many there are (numba-compiled)."""
    count = 0
    block_start = 0
    position = open_fill
    for k in range(len(sizes)):
        size = sizes[k]
        if position > block_start and position + size - block_start > block_size:
            cuts[count] = position  # flush before a record that does not fit
            count += 1
            block_start = position
        position += size
        while position - block_start >= block_size:
            block_start += block_size  # a full block is flushed at once
            cuts[count] = block_start
            count += 1
    return count
