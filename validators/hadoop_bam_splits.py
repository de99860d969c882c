"""hadoop-bam's split computation, the baseline this library is measured against.

Quarantined: only the comparison commands (``compute-splits``, ``compare-splits``,
``count-reads``, ``time-load``) import it.  It follows hadoop-bam's
``BAMInputFormat.addProbabilisticSplits`` (peers.md §1.3), quirks included:

1. It runs on the driver, one byte range after another.
2. The first range starts at the header's end (hadoop-bam asks htsjdk for the first
   record's offset when a split starts at byte 0).  Every other range starts at the first
   position that the ``hadoop_bam`` checker (a port of ``BAMSplitGuesser``) accepts, from the
   first BGZF block at or after the range's start, among blocks that start in the range.
3. Every split ends at ``(range end << 16) | 0xffff``: it reads all records starting in a
   block that starts exactly at the range end, which the next split reads too (duplicates
   whenever a block starts on a range boundary; Disq fixed the same bug in PR #34).
4. A range where nothing is accepted is merged into the previous split (whose end moves to
   this range's end).  hadoop-bam throws "no reads in first split" when that happens to the
   first range, which quirk 2 rules out: the first range always has the header's end, even
   when a huge header reaches past the range.  A false positive start is kept: whatever
   decodes from it is what the baseline returns, and reading it usually throws.

Block search uses this library's chained-header search, where hadoop-bam matches the gzip
magic and a CRC; on valid files both find the same block.
"""
from __future__ import annotations

import time
from typing import Iterator, List, NamedTuple, Optional, Sequence

from sparkbam_py.bam.file import BamFile, open_bam
from sparkbam_py.bam.header import BamHeader
from sparkbam_py.bam.walk import iter_record_chunks
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.config import DEFAULT_SPLIT_SIZE, CheckerConfig
from sparkbam_py.errors import SparkBamError
from sparkbam_py.pos import UOFFSET_MASK, Pos
from sparkbam_py.split.ranges import ByteRange, Split, compute_byte_ranges

from .hadoop_bam import HadoopBamChecker
from .search import next_record_start


class BaselineReadError(SparkBamError, RuntimeError):
    """Reading a baseline split failed, as hadoop-bam's reader fails on a false start."""


class BaselineResult(NamedTuple):
    """The baseline's splits, and the seconds the driver spent computing them."""

    splits: List[Split]
    seconds: float


def hadoop_bam_split_end(range_end: int) -> Pos:
    """hadoop-bam's split end: the whole block at ``range_end``, ``(end << 16) | 0xffff``."""
    return Pos(range_end, UOFFSET_MASK)


def hadoop_bam_split_start(reader: BgzfReader, header: BamHeader, checker: HadoopBamChecker,
                           byte_range: ByteRange, config: CheckerConfig) -> Optional[Pos]:
    """The record start hadoop-bam guesses for a byte range; None when it finds none."""
    if byte_range.start == 0:
        return header.end  # quirk 2: no guessing for the first split
    block = reader.find_block_start(byte_range.start, config.bgzf_blocks_to_check)
    if block >= min(byte_range.end, reader.size):
        return None
    stop = Pos(byte_range.end, 0)
    return next_record_start(reader, Pos(block, 0), checker, config.max_read_size, stop)


def hadoop_bam_splits(bam: BamFile, ranges: Sequence[ByteRange],
                      config: CheckerConfig = CheckerConfig()) -> List[Split]:
    """hadoop-bam's splits of an open BAM for the given byte ranges, computed sequentially."""
    checker = HadoopBamChecker(bam.header.n_ref, bam.size)
    splits: List[Split] = []
    for byte_range in ranges:
        start = hadoop_bam_split_start(bam.reader, bam.header, checker, byte_range, config)
        end = hadoop_bam_split_end(byte_range.end)
        if start is None:
            splits[-1] = Split(splits[-1].start, end)  # quirk 4: merged into the previous split
        else:
            splits.append(Split(start, end))
    return splits


def compute_hadoop_bam_splits(path: str, split_size=DEFAULT_SPLIT_SIZE, config: CheckerConfig = CheckerConfig(),
                              **channel_options) -> BaselineResult:
    """Open ``path`` and compute hadoop-bam's splits as its driver would, timed (the header
    read included: hadoop-bam reads it on the driver too)."""
    started = time.perf_counter()
    with open_bam(path, config.verify_checksums, **channel_options) as bam:
        splits = hadoop_bam_splits(bam, compute_byte_ranges(bam.size, split_size), config)
    return BaselineResult(splits, time.perf_counter() - started)


def iter_baseline_split_counts(path: str, splits: Sequence[Split]) -> Iterator[int]:
    """Records in each baseline split, read by the block_size chain from its start while the
    start is below its end: the split reader is the same as this library's, so only the
    split computation differs.  A false start shows as an error or a wrong count."""
    with open_bam(path) as bam:
        for split in splits:
            try:
                yield sum(len(chunk) for chunk in iter_record_chunks(bam.reader, split.start, split.end))
            except SparkBamError as error:
                raise BaselineReadError(
                    f"reading hadoop-bam split {split} failed: {type(error).__name__}: {error.detail}",
                    path, error.where) from error
