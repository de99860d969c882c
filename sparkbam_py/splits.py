"""Splits: fixed byte ranges on the driver, record boundaries found on the executors.

The driver cuts a file into byte ranges and ships each as a :class:`SplitTask` (path, range,
file size, the header essentials).  Inside the task, :class:`SplitReader` finds the range's
first record start itself: the first BGZF block at or after the range start, then the first
position there that the record-start checker accepts.  It walks records whose start is below
``Pos(range end, 0)``, so a record belongs to the range holding the compressed offset of the
block it starts in; every record lands in exactly one range (spark-bam reference §3.2).

Self-verifying boundaries: when the walk reaches ``Pos(end, 0)``, the position its
block_size chain lands on must be the start that the NEXT range's search finds.  The reader
runs that search itself (its blocks are already in the channel's cache) and raises
:class:`SplitVerificationError` naming both positions otherwise, so a checker mistake turns
into an error, never into lost or duplicated reads.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Iterator, List, NamedTuple, Optional, Tuple

from cachetools import LRUCache

from .bam.file import open_bam
from .bam.header import BamHeader, read_header
from .bam.layout import BLOCK_SIZE_BYTES
from .bam.walk import RecordChunk, iter_record_chunks
from .bgzf.reader import BgzfReader
from .channel import open_channel
from .config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE, DEFAULT_SPLIT_SIZE, CheckerConfig, parse_size
from .errors import InputIOError, SplitVerificationError
from .pos import Pos
from .validators.search import find_record_start

# Hadoop's FileInputFormat SPLIT_SLOP: the last range absorbs a remainder of up to 10%.
SPLIT_SLOP = 1.1
# Reference dictionaries bigger than this (in name characters) are not shipped with every
# task; executors read the header themselves, once per worker process and file.
MAX_SHIPPED_REFERENCE_CHARS = 256 * 1024
_HEADERS_PER_PROCESS = 16

_INT32 = struct.Struct("<i")


class ByteRange(NamedTuple):
    """Compressed bytes ``[start, end)`` of a file: one Spark partition."""

    start: int
    end: int


class Split(NamedTuple):
    """The records of one non-empty partition: those starting in ``[start, end)``."""

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


def splits_from_starts(starts: List[Optional[Pos]], ranges: List[ByteRange], file_size: int) -> List[Split]:
    """spark-bam's ``loadSplitsAndReads`` splits: each non-empty range's first record up to
    the next one's, the last ending at ``Pos(file_size, 0)``."""
    firsts = [start for start, rng in zip(starts, ranges) if start is not None and start < Pos(rng.end, 0)]
    ends = firsts[1:] + [Pos(file_size, 0)]
    return [Split(start, end) for start, end in zip(firsts, ends)]


# -- what travels to executors ------------------------------------------------------------


@dataclass(frozen=True)
class SplitTask:
    """One byte range of one file, and the small facts the executor needs to read it.

    ``header`` holds the reference dictionary without the SAM text (None when too big to
    ship; the executor then reads it).  ``file_size`` guards against a file that changed
    after the driver looked at it.
    """

    path: str
    file_size: int
    range: ByteRange
    header_end: Pos
    header: Optional[BamHeader] = None
    config: CheckerConfig = CheckerConfig()
    verify: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES

    @property
    def end_pos(self) -> Pos:
        return Pos(self.range.end, 0)


def shippable_header(header: BamHeader) -> Optional[BamHeader]:
    """The header without its text, or None when even the dictionary is too big to ship."""
    if sum(len(name) for name in header.reference_names) > MAX_SHIPPED_REFERENCE_CHARS:
        return None
    return replace(header, text="")


def plan_tasks(path: str, file_size: int, header: BamHeader, split_size=DEFAULT_SPLIT_SIZE, **task_options) -> List[SplitTask]:
    """The tasks for one file: one per byte range, all sharing the same header essentials."""
    shipped = shippable_header(header)
    return [
        SplitTask(path, file_size, rng, header.end, shipped, **task_options)
        for rng in compute_byte_ranges(file_size, split_size)
    ]


# -- executor side ------------------------------------------------------------------------


def plan_file(path: str, split_size=DEFAULT_SPLIT_SIZE, **task_options) -> Tuple[BamHeader, List[SplitTask]]:
    """Read one BAM's header on the driver and plan its tasks."""
    with open_bam(path) as bam:
        header, size = bam.header, bam.size
    return header, plan_tasks(str(path), size, header, split_size, **task_options)


def find_split_start(
    reader: BgzfReader, header: BamHeader, offset: int, config: CheckerConfig, stop: Optional[Pos] = None
) -> Optional[Pos]:
    """The first record start owned by a range beginning at compressed ``offset``.

    None when no record starts before ``stop`` (or the end of the data).  A range whose
    first block is at or before the header's last block starts at the header's end: the
    header says where the first record is, and the checker is never asked about header bytes.
    """
    size = reader.size
    if offset >= size:
        return None
    block = reader.find_block_start(offset, config.bgzf_blocks_to_check)
    if block <= header.end.block_pos:
        return header.end if stop is None or header.end < stop else None
    if block >= size or (stop is not None and Pos(block, 0) >= stop):
        return None
    return find_record_start(reader, block, header, config, stop=stop)


_headers: LRUCache = LRUCache(maxsize=_HEADERS_PER_PROCESS)


def _header_for(task: SplitTask, reader: BgzfReader) -> BamHeader:
    """The shipped header, or the file's own, read once per worker process."""
    if task.header is not None:
        return task.header
    key = (task.path, task.file_size)
    header = _headers.get(key)
    if header is None:
        header = replace(read_header(reader), text="")
        _headers[key] = header
    return header


class SplitReader:
    """Reads one :class:`SplitTask` inside a Spark task: start search, walk, verification.

    Open it with ``with``: it owns the task's channel.
    """

    def __init__(self, task: SplitTask):
        self.task = task
        self.channel = open_channel(task.path, page_size=task.page_size, cache_bytes=task.cache_bytes)
        try:
            if self.channel.size != task.file_size:
                raise InputIOError(
                    f"the file is {self.channel.size} bytes now but was {task.file_size} when the splits "
                    "were computed; it changed while being read",
                    task.path,
                )
            self.reader = BgzfReader(self.channel)
            self.header = _header_for(task, self.reader)
        except BaseException:
            self.channel.close()
            raise
        self._start: Optional[Tuple[Optional[Pos]]] = None

    @property
    def start(self) -> Optional[Pos]:
        """The range's first record start; None when the range owns no record."""
        if self._start is None:
            found = find_split_start(
                self.reader, self.header, self.task.range.start, self.task.config, stop=self.task.end_pos
            )
            self._start = (found,)
        return self._start[0]

    def iter_chunks(self) -> Iterator[RecordChunk]:
        """The range's records in file order; verifies the boundary once the walk is done."""
        start = self.start
        if start is None:
            return
        last: Optional[RecordChunk] = None
        for chunk in iter_record_chunks(self.reader, start, self.task.end_pos):
            last = chunk
            yield chunk
        if self.task.verify:
            self.verify_boundary(start if last is None else landing_after(last))

    def count(self) -> int:
        """How many records the range owns: the block_size chain alone, nothing decoded."""
        return sum(len(chunk) for chunk in self.iter_chunks())

    def verify_boundary(self, landing: Pos) -> None:
        """Check that the next range starts where this range's record chain ends."""
        expected = find_split_start(self.reader, self.header, self.task.range.end, self.task.config)
        if expected is None:
            if not _data_ends_at(self.reader, landing):
                raise SplitVerificationError(
                    f"the records of bytes {self.task.range.start}-{self.task.range.end} chain on to a record "
                    f"at {landing}, but the search for the next range's start finds no record start",
                    self.task.path,
                    landing,
                )
        elif expected != landing:
            raise SplitVerificationError(
                f"the records of bytes {self.task.range.start}-{self.task.range.end} chain on to {landing}, "
                f"but the next range's record-start search finds {expected}; reads would be "
                f"{'lost' if expected > landing else 'duplicated'} (checker false "
                f"{'negative' if expected > landing else 'positive'})",
                self.task.path,
                landing,
            )

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "SplitReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def landing_after(chunk: RecordChunk) -> Pos:
    """The position right after the chunk's last record: where the block_size chain goes next."""
    last = int(chunk.offsets[-1])
    block_size = _INT32.unpack_from(chunk.run.raw, last)[0]
    return chunk.run.pos_at(last + BLOCK_SIZE_BYTES + block_size)


def _data_ends_at(reader: BgzfReader, pos: Pos) -> bool:
    """True when no inflated byte follows ``pos`` (only empty blocks, if anything)."""
    run = reader.read_run(pos.block_pos, pos.offset + 1)
    return len(run) <= pos.offset
