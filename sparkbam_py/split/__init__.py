"""The format-agnostic split protocol: byte ranges, tasks, first-boundary search, verification.

A file is cut into fixed byte ranges on the driver (:mod:`.ranges`).  Inside each task a
format-specific reader finds the first unit boundary (BAM record, text line, CRAM container)
owned by its range, reads units to the end of the range, and checks that it ended exactly
where the next range's search begins (:mod:`.reader`).  A splitting index can instead give
the splits exactly (:mod:`.exact`).  BGZF-specific naming of positions beside empty blocks
lives in :mod:`.bgzf_positions`; nothing else here knows BGZF.

Implementations: BAM records (``sparkbam_py.bam.splits``), bgzipped text lines
(``sparkbam_py.text.lines``).
"""
from __future__ import annotations

from .exact import exact_byte_range, splits_from_offsets
from .ranges import SPLIT_SLOP, ByteRange, Split, compute_byte_ranges, splits_from_starts
from .reader import RangeReader, Vocabulary
from .task import RangeTask, open_task_channel

__all__ = [
    "SPLIT_SLOP",
    "ByteRange",
    "RangeReader",
    "RangeTask",
    "Split",
    "Vocabulary",
    "compute_byte_ranges",
    "exact_byte_range",
    "open_task_channel",
    "splits_from_offsets",
    "splits_from_starts",
]
