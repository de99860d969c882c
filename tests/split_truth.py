"""Splits as they must be, from an independent list of record starts (tests only).

The rule (spark-bam reference §3.2): a byte range ``[s, e)`` owns the records whose start
lies in a BGZF block beginning in ``[s, e)``; a split runs from a non-empty range's first
record to the next non-empty range's first, the last one to ``Pos(file size, 0)``.
"""
from __future__ import annotations

import bisect
import csv
from pathlib import Path
from typing import List, Sequence, Tuple

from sparkbam_py.pos import Pos
from sparkbam_py.bam.splits import ByteRange, compute_byte_ranges

# MANIFEST notes marking files that are meant to fail (or are not BGZF at all).
UNREADABLE_NOTES = ("INVALID", "container=raw", "samtools_read_error", "pysam_error")


def truth_splits(record_pos: Sequence[Pos], file_size: int, split_size) -> List[Tuple[Pos, Pos]]:
    return truth_splits_for_ranges(record_pos, compute_byte_ranges(file_size, split_size), file_size)


def truth_splits_for_ranges(record_pos: Sequence[Pos], ranges: Sequence[ByteRange], file_size: int):
    firsts = []
    for start, end in ranges:
        k = bisect.bisect_left(record_pos, Pos(start, 0))
        if k < len(record_pos) and record_pos[k] < Pos(end, 0):
            firsts.append(record_pos[k])
    return list(zip(firsts, firsts[1:] + [Pos(file_size, 0)]))


def split_sizes_for(file_size: int) -> List[int]:
    """A spread of split sizes: one split, a few, many, and some tiny ones (empty ranges)."""
    sizes = {max(1, file_size // k) for k in (1, 2, 3, 7, 20, 60)}
    return sorted(sizes | {997, 4096, 65536})


def readable_corpus_bams(corpus_dir: Path) -> List[Path]:
    """Corpus BAMs that every reader must read whole (the MANIFEST says which are broken)."""
    with open(corpus_dir / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [corpus_dir / row["file"] for row in rows
            if not any(note in row["notes"] for note in UNREADABLE_NOTES)]
