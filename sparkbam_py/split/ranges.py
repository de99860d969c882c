"""Byte ranges (one per Spark partition) and splits (the units a range owns).

Nothing here knows a file format: a :class:`~sparkbam_py.pos.Pos` names a unit boundary
(a BAM record, a text line, a CRAM container as ``Pos(offset, 0)``).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..pos import Pos

# Hadoop's FileInputFormat SPLIT_SLOP: the last range absorbs a remainder of up to 10%.
SPLIT_SLOP = 1.1


class ByteRange(NamedTuple):
    """Compressed bytes ``[start, end)`` of a file: one Spark partition."""

    start: int
    end: int


class Split(NamedTuple):
    """The units (records, containers, lines) of one non-empty partition: those starting in ``[start, end)``.

    Printed as ``start-end``, e.g. ``0:4530-65280:1003``.

    Attributes:
        start: the first unit's position.
        end: the next partition's first unit (the end of the file: ``Pos(file size, 0)``).
    """

    start: Pos
    end: Pos

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def compute_byte_ranges(file_size: int, split_size=DEFAULT_SPLIT_SIZE) -> List[ByteRange]:
    """Ranges of ``split_size`` tiling ``[0, file_size)``, Hadoop-style: the last one takes
    any remainder up to 10% of a split rather than leaving a sliver range."""
    size = parse_size(split_size)
    ranges, start = [], 0
    while (file_size - start) / size > SPLIT_SLOP:
        ranges.append(ByteRange(start, start + size))
        start += size
    ranges.append(ByteRange(start, file_size))
    return ranges


def splits_from_starts(starts: List[Optional[Pos]], file_size: int) -> List[Split]:
    """spark-bam's ``loadSplitsAndReads`` splits from each range's first unit (None for an
    empty range): each non-empty range up to the next one's, the last to ``Pos(file_size, 0)``."""
    firsts = [start for start in starts if start is not None]
    return [Split(start, end) for start, end in zip(firsts, firsts[1:] + [Pos(file_size, 0)])]
