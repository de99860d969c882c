"""BAM splits: fixed byte ranges on the driver, record boundaries found on the executors.

The BAM implementation of the format-agnostic protocol in :mod:`sparkbam_py.split` (which
holds the byte ranges, the task shape, the verification and the exact-index mode; their
names are re-exported here).

The driver cuts a file into byte ranges and ships each as a :class:`SplitTask` (path, range,
file size, the header essentials).  Inside the task, :class:`SplitReader` finds the range's
first record start itself: the first BGZF block at or after the range start, then the first
position there that the record-start checker accepts.  It walks records until ``Pos(end, 0)``.

Ownership: a record belongs to the range holding the compressed offset of the block its
first byte is in, so every record lands in exactly one range (spark-bam reference §3.2).
This matters only beside empty BGZF blocks: htslib names a record that starts right after a
block's data by the NEXT block in the file, even an empty one, and that block may lie in an
earlier range than the block holding the record's bytes.  Names (``file_position``) follow
htslib; ownership and boundary checks compare physical positions (:func:`physical_pos`).

Self-verifying boundaries: when the walk reaches ``Pos(end, 0)``, the position its
block_size chain lands on must be the start that the NEXT range's search finds.  The reader
runs that search itself (its blocks are already in the channel's cache) and raises
:class:`SplitVerificationError` naming both positions otherwise, so a checker mistake turns
into an error, never into lost or duplicated reads.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Iterator, List, Optional, Tuple

import numpy as np
from cachetools import LRUCache

from ..bgzf.reader import BgzfReader
from ..config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE, DEFAULT_SPLIT_SIZE, CheckerConfig
from ..index.sbi import find_sbi, splits_from_sbi
from ..pos import Pos
from ..split.bgzf_positions import (  # noqa: F401 - re-exported: the BGZF naming rules
    MAX_EMPTY_BLOCK_SIZE,
    empty_block_before as _empty_block_before,
    htslib_pos,
    physical_pos,
)
from ..split.exact import exact_byte_range
from ..split.ranges import SPLIT_SLOP, ByteRange, Split, compute_byte_ranges, splits_from_starts  # noqa: F401
from ..split.reader import RangeReader
from ..split.task import RangeTask, open_task_channel
from ..validators.search import find_record_start
from .file import open_bam
from .header import BamHeader, read_header
from .layout import BLOCK_SIZE_BYTES
from .walk import DEFAULT_CHUNK_BYTES, RecordChunk, iter_record_chunks

# Reference dictionaries bigger than this (names plus lengths, roughly as pickled) are not
# shipped with every task; executors read the header themselves, once per process and file.
MAX_SHIPPED_DICTIONARY_BYTES = 64 * 1024
_PICKLED_BYTES_PER_REFERENCE = 8
HEADERS_PER_PROCESS = 16
# The walk inflates at least this much at a time; a small range needs no more than a few
# times its compressed size (a 4 MiB chunk per 300-byte range would make tiny splits crawl).
MIN_WALK_CHUNK_BYTES = 64 * 1024
WALK_CHUNK_PER_RANGE_BYTE = 4
# Inflated blocks each task keeps: a search window of tiny (100-byte) blocks spans hundreds,
# and the boundary check searches the same window again.
SEARCH_CACHE_BLOCKS = 512
_INT32 = struct.Struct("<i")


# -- what travels to executors ------------------------------------------------------------


@dataclass(frozen=True)
class SplitTask(RangeTask):
    """One byte range of one BAM file, and the small facts the executor needs to read it.

    ``header`` holds the reference dictionary without the SAM text (None when too big to
    ship; the executor then reads it).  ``file_size`` guards against a file that changed
    after the driver looked at it.
    """

    header: Optional[BamHeader] = None
    config: CheckerConfig = CheckerConfig()
    verify: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    # Set when a splitting index (.sbi) gave this split exactly: no search; its records are
    # those named in [exact.start, exact.end), and the chain must land on exact.end.
    exact: Optional[Split] = None

def shippable_header(header: BamHeader) -> Optional[BamHeader]:
    """The header without its text, or None when even the dictionary is too big to ship."""
    size = sum(len(name) + _PICKLED_BYTES_PER_REFERENCE for name in header.reference_names)
    if size > MAX_SHIPPED_DICTIONARY_BYTES:
        return None
    return replace(header, text="")


def plan_tasks(path: str, file_size: int, header: BamHeader, split_size=DEFAULT_SPLIT_SIZE,
               **task_options) -> List[SplitTask]:
    """The tasks for one file: one per byte range, all sharing the same header essentials."""
    shipped = shippable_header(header)
    return [SplitTask(path, file_size, rng, shipped, **task_options)
            for rng in compute_byte_ranges(file_size, split_size)]


def plan_exact_tasks(path: str, file_size: int, header: BamHeader, splits: List[Split],
                     **task_options) -> List[SplitTask]:
    """One task per split known exactly (from a splitting index): nothing to search."""
    shipped = shippable_header(header)
    return [SplitTask(path, file_size, exact_byte_range(split), shipped, exact=split, **task_options)
            for split in splits]


def plan_file(path: str, split_size=DEFAULT_SPLIT_SIZE, use_splitting_index: bool = True,
              **task_options) -> Tuple[BamHeader, List[SplitTask]]:
    """Read one BAM's header (on the driver) and plan its tasks (:func:`cut_file`)."""
    header, size = read_header_and_size(path, task_options.get("config", CheckerConfig()).verify_checksums)
    return header, cut_file(path, size, header, split_size, use_splitting_index, **task_options)


def read_header_and_size(path: str, verify_checksums: bool = True) -> Tuple[BamHeader, int]:
    """One BAM's header and its file size, read on the driver."""
    with open_bam(path, verify_checksums) as bam:
        return bam.header, bam.size


def cut_file(path: str, size: int, header: BamHeader, split_size=DEFAULT_SPLIT_SIZE,
             use_splitting_index: bool = True, **task_options) -> List[SplitTask]:
    """One BAM's tasks: from the ``.sbi`` beside it when there is a current one (and
    ``use_splitting_index``), else by byte ranges."""
    if use_splitting_index:
        sbi = find_sbi(str(path), size)
        if sbi is not None:
            splits = splits_from_sbi(sbi, size, split_size)
            return plan_exact_tasks(str(path), size, header, splits, **task_options)
    return plan_tasks(str(path), size, header, split_size, **task_options)


# -- executor side ------------------------------------------------------------------------


def find_split_start(reader: BgzfReader, header: BamHeader, offset: int, config: CheckerConfig,
                     stop: Optional[Pos] = None) -> Optional[Pos]:
    """The first record start owned by a range beginning at compressed ``offset``, htslib-named.

    None when no record starts before ``stop`` (or the end of the data).  A range whose
    first block is at or before the header's last block starts at the header's end: the
    header says where the first record is, and the checker is never asked about header bytes.
    """
    size = reader.size
    if offset >= size:
        return None
    block = reader.find_block_start(offset, config.bgzf_blocks_to_check)
    if block <= header.end.block_pos:
        first = physical_pos(reader, header.end)
        return None if first is None or (stop is not None and first >= stop) else header.end
    if block >= size or (stop is not None and Pos(block, 0) >= stop):
        return None
    found = find_record_start(reader, block, header, config, stop=stop)
    return None if found is None else htslib_pos(reader.channel, found)


_headers: LRUCache = LRUCache(maxsize=HEADERS_PER_PROCESS)


def header_for(path: str, file_size: int, shipped: Optional[BamHeader], reader: BgzfReader) -> BamHeader:
    """The shipped header, or the file's own (without its text), read once per worker process."""
    if shipped is not None:
        return shipped
    key = (path, file_size)
    header = _headers.get(key)
    if header is None:
        header = replace(read_header(reader), text="")
        _headers[key] = header
    return header


class SplitReader(RangeReader):
    """Reads one :class:`SplitTask` inside a Spark task: start search, walk, verification.

    Open it with ``with``: it owns the task's channel.
    """

    def __init__(self, task: SplitTask):
        super().__init__(task)
        self.channel = open_task_channel(task)
        try:
            self.reader = BgzfReader(self.channel, SEARCH_CACHE_BLOCKS, task.config.verify_checksums)
            self.header = header_for(task.path, task.file_size, task.header, self.reader)
        except BaseException:
            self.channel.close()
            raise

    def find_start(self, offset: int, stop: Optional[Pos] = None) -> Optional[Pos]:
        return find_split_start(self.reader, self.header, offset, self.task.config, stop)

    def place(self, pos: Pos) -> Optional[Pos]:
        return physical_pos(self.reader, pos)

    def iter_chunks(self, chunk_bytes: Optional[int] = None, reuse_buffer: bool = False) -> Iterator[RecordChunk]:
        """The range's records in file order; verifies the boundary once the walk is done.

        ``chunk_bytes`` caps the inflated bytes per chunk (default ``DEFAULT_CHUNK_BYTES``);
        ``reuse_buffer``: each chunk's data overwrites the previous one's (see
        :func:`~sparkbam_py.bam.walk.iter_record_chunks`).
        """
        if self.task.exact is not None:
            yield from self._iter_exact(self.task.exact, chunk_bytes, reuse_buffer)
            return
        start = self.start
        if start is None:
            return
        landing = start
        walk = iter_record_chunks(self.reader, start, self.task.end_pos, self._walk_chunk_bytes(chunk_bytes),
                                  reuse_buffer)
        for chunk in walk:
            if not len(chunk):
                continue
            chunk, landing, done = self._owned_part(chunk)
            if len(chunk):
                yield chunk
            if done:
                break
        if self.task.verify:
            self.verify_boundary(landing)

    def _iter_exact(self, split: Split, chunk_bytes: Optional[int], reuse_buffer: bool) -> Iterator[RecordChunk]:
        """A split from the splitting index: records named in [start, end), then a check
        that the chain lands exactly on ``end`` (a same-length rewrite of the BAM would not)."""
        landing = split.start
        walk = iter_record_chunks(self.reader, split.start, split.end, self._walk_chunk_bytes(chunk_bytes),
                                  reuse_buffer)
        for chunk in walk:
            if len(chunk):
                last = int(chunk.offsets[-1])
                landing = chunk.run.pos_at(last + BLOCK_SIZE_BYTES + _INT32.unpack_from(chunk.run.raw, last)[0])
                yield chunk
        if self.task.verify:
            self.verify_exact_end(split, landing)

    def _walk_chunk_bytes(self, limit: Optional[int] = None) -> int:
        wanted = WALK_CHUNK_PER_RANGE_BYTE * (self.task.range.end - self.task.range.start)
        return min(limit or DEFAULT_CHUNK_BYTES, max(MIN_WALK_CHUNK_BYTES, wanted))

    def _owned_part(self, chunk: RecordChunk) -> Tuple[RecordChunk, Pos, bool]:
        """The chunk without a last record whose bytes start in a block past the range
        (named by an empty block inside it), where the chain lands, and whether that was it."""
        run, offsets = chunk.run, chunk.offsets
        last = int(offsets[-1])
        first_byte_block = run.block_starts[np.searchsorted(run.data_starts, last, side="right") - 1]
        if first_byte_block >= self.task.range.end:
            return RecordChunk(run, offsets[:-1]), run.pos_at(last), True
        block_size = _INT32.unpack_from(run.raw, last)[0]
        return chunk, run.pos_at(last + BLOCK_SIZE_BYTES + block_size), False

    def count(self) -> int:
        """How many records the range owns: the block_size chain alone, nothing decoded."""
        return sum(len(chunk) for chunk in self.iter_chunks(reuse_buffer=True))

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "SplitReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
