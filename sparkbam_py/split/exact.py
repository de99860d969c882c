"""Exact mode: splits read from an index of unit starts instead of searched for.

An index such as htsjdk's ``.sbi`` lists the virtual offsets of every g-th unit and, last,
where a next unit would start.  A byte range's split then starts at the first indexed unit
at or after ``Pos(range start, 0)`` (htsjdk ``SBIIndex.getChunk``): no search.  The reader
still verifies that the units of each split end exactly at its end
(:meth:`~sparkbam_py.split.reader.RangeReader.verify_exact_end`).
"""
from __future__ import annotations

from typing import List, Sequence

import numpy as np

from ..pos import UOFFSET_BITS, Pos
from .ranges import ByteRange, Split


def first_offsets_at_or_after(offsets: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """For each compressed offset in ``blocks``, the first indexed virtual offset at or after
    ``Pos(block, 0)``, clamped (as ``getChunk`` does) to the last offset's block, so ranges
    past the indexed units map to the last offset (an empty chunk) instead of to nothing."""
    last_block = int(offsets[-1]) >> UOFFSET_BITS
    wanted = np.minimum(np.asarray(blocks, dtype=np.int64), last_block) << UOFFSET_BITS
    # ceiling(v): the first offset >= v.  It cannot run off the end: v <= last offset.
    return offsets[np.searchsorted(offsets, wanted, side="left")]


def splits_from_offsets(offsets: np.ndarray, ranges: Sequence[ByteRange], file_size: int) -> List[Split]:
    """The splits of ``ranges`` from ascending indexed virtual offsets (the last one being
    where a next unit would start): each range that holds an indexed unit runs from its
    first to the next such range's first; the last split ends at ``Pos(file_size, 0)``."""
    starts = np.array([r[0] for r in ranges], dtype=np.int64)
    ends = np.array([r[1] for r in ranges], dtype=np.int64)
    first = first_offsets_at_or_after(offsets, starts)
    after = first_offsets_at_or_after(offsets, ends)
    firsts = [Pos.from_virtual(int(v)) for v in first[first != after]]
    return [Split(start, end) for start, end in zip(firsts, firsts[1:] + [Pos(file_size, 0)])]


def exact_byte_range(split: Split) -> ByteRange:
    """The compressed bytes a split known exactly spans (what its partition is named by)."""
    return ByteRange(split.start.block_pos, split.end.block_pos)
