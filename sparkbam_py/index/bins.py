"""The binning scheme of BAI and CSI indexes (SAMv1 §5.3, CSIv1 §3), as plain integer math.

A reference is covered by a tree of bins: level 0 is one bin spanning ``2**(min_shift +
3*depth)`` bases, and each level down splits every bin into 8, until the bottom level
(``depth``) whose bins span ``2**min_shift`` bases.  Bins are numbered level by level, so
level ``l`` starts at bin ``(8**l - 1) // 7``.  BAI is the fixed case ``min_shift=14,
depth=5``; CSI stores both numbers in its header.

Everything here is pure and works for any ``(min_shift, depth)``; the BAI constants are
defaults.  Coordinates are 0-based, half-open.
"""
from __future__ import annotations

from typing import List, Tuple

# SAMv1 §5.3: BAI bins: 16 kbp at the bottom level (2**14), six levels (0..5).
BAI_MIN_SHIFT = 14
BAI_DEPTH = 5
# SAMv1 §5.2: the linear index has one entry per 16 kbp window (the BAI min_shift).
LINEAR_WINDOW_SHIFT = BAI_MIN_SHIFT
# Each level splits a bin into 8 children (3 bits of position per level).
LEVEL_BITS = 3


def level_first_bin(level: int) -> int:
    """The first bin number of ``level``: ``(8**level - 1) / 7`` (SAMv1 §5.3)."""
    return ((1 << (LEVEL_BITS * level)) - 1) // 7


def bin_count(depth: int = BAI_DEPTH) -> int:
    """How many real bins a ``depth`` scheme has: 37449 for BAI, bins ``0..count-1``.

    CSIv1 calls this ``bin_limit``: ``((1 << (depth+1)*3) - 1) / 7``.
    """
    return level_first_bin(depth + 1)


def pseudo_bin(depth: int = BAI_DEPTH) -> int:
    """The metadata pseudo-bin: 37450 for BAI (SAMv1 §5.2), ``bin_limit + 1`` for CSI."""
    return bin_count(depth) + 1


def max_reference_length(min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH) -> int:
    """The span of bin 0, the longest reference the scheme can index (2**29 for BAI)."""
    return 1 << (min_shift + LEVEL_BITS * depth)


def bin_level(bin_id: int) -> int:
    """The level (0 = root) that ``bin_id`` lies on."""
    if bin_id < 0:
        raise ValueError(f"negative bin {bin_id}")
    level = 0
    while bin_id >= level_first_bin(level + 1):
        level += 1
    return level


def parent_bin(bin_id: int) -> int:
    """The bin one level up that contains ``bin_id`` (SAMv1 §5.3: ``(bin - 1) >> 3``)."""
    if bin_id <= 0:
        raise ValueError(f"bin {bin_id} has no parent")
    return (bin_id - 1) >> LEVEL_BITS


def is_first_child(bin_id: int) -> bool:
    """Whether ``bin_id`` is the leftmost of its 8 siblings (all such bins are ``1 mod 8``)."""
    return bin_id > 0 and bin_id % 8 == 1


def bin_shift(level: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH) -> int:
    """log2 of the span of one bin on ``level``."""
    return min_shift + LEVEL_BITS * (depth - level)


def bin_range(
    bin_id: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH
) -> Tuple[int, int]:
    """The ``[beg, end)`` reference interval that ``bin_id`` covers."""
    level = bin_level(bin_id)
    if level > depth:
        raise ValueError(f"bin {bin_id} is below the bottom level of a depth-{depth} scheme")
    shift = bin_shift(level, min_shift, depth)
    beg = (bin_id - level_first_bin(level)) << shift
    return beg, beg + (1 << shift)


def bin_first_window(bin_id: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH) -> int:
    """The bottom-level window (``pos >> min_shift``) where ``bin_id`` starts.

    For BAI that is the linear-index entry htslib uses as the bin's ``loffset``.
    """
    return bin_range(bin_id, min_shift, depth)[0] >> min_shift


def reg2bin(beg: int, end: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH) -> int:
    """The smallest bin that wholly contains ``[beg, end)`` (SAMv1 §5.3, CSIv1 §3).

    Writers pass ``end = beg + 1`` for records that cover no reference bases.
    """
    last = end - 1
    for level in range(depth, 0, -1):
        shift = bin_shift(level, min_shift, depth)
        if beg >> shift == last >> shift:
            return level_first_bin(level) + (beg >> shift)
    return 0


def reg2bins(
    beg: int, end: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH
) -> List[int]:
    """Every bin that may hold a record overlapping ``[beg, end)``, level by level.

    SAMv1 §5.3 / CSIv1 §3.  ``end`` is clamped to the scheme's maximum; an empty interval
    has no bins.  Never yields the pseudo-bin.
    """
    beg = max(beg, 0)
    end = min(end, max_reference_length(min_shift, depth))
    if beg >= end:
        return []
    last = end - 1
    bins: List[int] = []
    for level in range(depth + 1):
        shift = bin_shift(level, min_shift, depth)
        first = level_first_bin(level)
        bins.extend(range(first + (beg >> shift), first + (last >> shift) + 1))
    return bins


def linear_window(pos: int) -> int:
    """The BAI linear-index window (16 kbp, SAMv1 §5.2) that holds position ``pos``."""
    return pos >> LINEAR_WINDOW_SHIFT


def depth_for_length(length: int, min_shift: int = BAI_MIN_SHIFT) -> int:
    """The smallest depth whose root bin spans ``length`` bases (how htslib sizes CSI)."""
    depth = 0
    while max_reference_length(min_shift, depth) < length:
        depth += 1
    return depth
