"""Lines of a bgzipped text file, split by byte ranges: the text implementation of
:mod:`sparkbam_py.split`.

Ownership: a line belongs to the range holding the compressed start of the BGZF block that
contains the line's first byte.  A range's first line is found from its first block alone
(chained headers, as for BAM): the block's first byte starts a line when the last data byte
before the block is a newline (or there is none).  That byte is read from the one data
block ending there, found backwards from the block's own start
(:func:`~sparkbam_py.split.bgzf_positions.block_before`), never by reading the previous
range.  Blocks without a line start (inside a long line, or empty) are skipped while they
still lie in the range.

The reader walks lines to the end of its range, the last one whole across any number of
blocks, and verifies that it ended exactly where the next range's first line starts.
Positions (``file_position``) are htslib's virtual offsets of the lines (``bgzf_tell``
before ``bgzf_getline``); comparisons use physical positions, as for BAM.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import numpy as np

from ..bgzf.native import ISAL
from ..bgzf.reader import BgzfReader
from ..bgzf.run import InflatedRun
from ..bgzf.sequential import open_runs
from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK, DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE
from ..pos import Pos
from ..split.bgzf_positions import block_before, first_block_in_range, htslib_pos, physical_pos
from ..split.ranges import Split
from ..split.reader import RangeReader, Vocabulary
from ..split.task import RangeTask, open_task_channel
from .chunk import LF, LineChunk, line_bounds

# Inflated bytes per walk step: big enough to amortise numpy calls, small enough to stream.
DEFAULT_LINE_CHUNK_BYTES = 4 << 20
MIN_LINE_CHUNK_BYTES = 64 * 1024
# New inflated bytes per run once the walk is past its range's end: about one block, so
# finding the newline that ends the last line reads little of the neighbour's range.
LAST_LINE_STEP_BYTES = 1
# Blocks a task keeps inflated: the start search and the boundary check revisit a few.
LINE_SEARCH_CACHE_BLOCKS = 64


@dataclass(frozen=True)
class LineTask(RangeTask):
    """One byte range of one bgzipped text file."""

    blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK
    verify: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    exact: Optional[Split] = None
    # Index chunk this range reads a piece of (region loads): only lines named in
    # [bounds.start, bounds.end); the piece holding bounds.start starts there.
    bounds: Optional[Split] = None


def previous_data_byte(reader: BgzfReader, block: int) -> Optional[int]:
    """The last inflated byte before block ``block``; None when no data precedes it."""
    while True:
        block = block_before(reader.channel, block)
        if block is None:
            return None
        data = reader.block(block).data
        if data:
            return data[-1]


def find_line_start(reader: BgzfReader, offset: int, stop: Optional[Pos] = None,
                    blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK) -> Optional[Pos]:
    """The first line start owned by a range beginning at compressed ``offset`` (htslib's
    name for it); None when no line starts in a block before ``stop``."""
    block = first_block_in_range(reader, offset, blocks_to_check, stop)
    if block is None:
        return None
    previous = previous_data_byte(reader, block)
    at_line_start = previous is None or previous == LF
    size = reader.size
    while block < size and (stop is None or block < stop.block_pos):
        current = reader.block(block)
        data = current.data
        if data:
            if at_line_start:
                return htslib_pos(reader.channel, Pos(block, 0))
            newline = data.find(b"\n")
            if 0 <= newline < len(data) - 1:
                return Pos(block, newline + 1)
            at_line_start = newline == len(data) - 1
        block = current.end
    return None


class LineReader(RangeReader):
    """Reads one :class:`LineTask`: first line search, line walk, boundary verification.

    Open it with ``with``: it owns the task's channel.
    """

    words = Vocabulary(unit="line", units="lines", items="lines")

    def __init__(self, task: LineTask):
        super().__init__(task)
        self.channel = open_task_channel(task)
        self.reader = BgzfReader(self.channel, cache_blocks=LINE_SEARCH_CACHE_BLOCKS)

    def find_start(self, offset: int, stop: Optional[Pos] = None) -> Optional[Pos]:
        return find_line_start(self.reader, offset, stop, self.task.blocks_to_check)

    def place(self, pos: Pos) -> Optional[Pos]:
        return physical_pos(self.reader, pos)

    @property
    def start(self) -> Optional[Pos]:
        bounds = self.task.bounds
        if bounds is not None and self.task.range.start <= bounds.start.block_pos:
            return bounds.start
        found = super().start
        return None if found is None or (bounds is not None and found >= bounds.end) else found

    def iter_chunks(self, chunk_bytes: Optional[int] = None) -> Iterator[LineChunk]:
        """The range's lines in file order; verifies the boundary once the walk is done."""
        start = self.start
        if start is None:
            return
        task = self.task
        exact, bounds = task.exact, task.bounds
        chunk_bytes = chunk_bytes or self._chunk_bytes()
        landing = start
        range_end = None if exact is not None else task.range.end
        stop = exact.end if exact is not None else None if bounds is None else bounds.end
        for chunk, landing in iter_line_chunks(self.reader, start, range_end, chunk_bytes, stop):
            if len(chunk):
                yield chunk
        if task.verify:
            if exact is not None:
                self.verify_exact_end(exact, landing)
            else:
                self.verify_boundary(landing)

    def _chunk_bytes(self) -> int:
        span = 4 * (self.task.range.end - self.task.range.start)
        return min(DEFAULT_LINE_CHUNK_BYTES, max(MIN_LINE_CHUNK_BYTES, span))

    def count(self) -> int:
        """How many lines the range owns (nothing converted)."""
        return sum(len(chunk) for chunk in self.iter_chunks())

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "LineReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def iter_line_chunks(reader: BgzfReader, start: Pos, range_end: Optional[int],
                     chunk_bytes: int = DEFAULT_LINE_CHUNK_BYTES,
                     stop: Optional[Pos] = None) -> Iterator[Tuple[LineChunk, Pos]]:
    """Lines from ``start`` (a line start) whose first byte is in a block starting before
    ``range_end`` (when given) and that are named below ``stop`` (when given), each chunk
    with where the walk landed: the position after its last line (the next line's start).

    Runs come from :func:`~sparkbam_py.bgzf.sequential.open_runs` (many blocks per compiled
    call where available).  They stop at the range's end; past it, a run takes one block at a
    time until a newline ends the range's last line, so a small range does not read far into
    its neighbour.
    """
    last_block = range_end if range_end is not None else stop.block_pos + 1
    runs = open_runs(reader, start.block_pos, chunk_bytes, end_block=last_block, inflater=ISAL)
    carry: Optional[InflatedRun] = None
    index = start.offset
    wanted = chunk_bytes
    while True:
        past_end = carry is not None and int(carry.block_starts[-1]) >= last_block
        # Past the end, the carry (the unfinished last line) sets the step: a long line costs linear time.
        run = runs.next_run(carry, wanted=max(LAST_LINE_STEP_BYTES, len(carry)) if past_end else wanted,
                            stop_at=None if past_end else last_block)
        starts, ends, after = line_bounds(run.data, index, run.at_end)
        owned = _owned(run, starts, range_end, stop)
        done = owned < len(starts) or run.at_end
        if owned < len(starts):
            after = int(starts[owned])
        chunk = LineChunk(run.data, starts[:owned], ends[:owned], run.virtual_offsets, reader.path)
        yield chunk, run.pos_at(after)
        if done:
            return
        # A line longer than the step: grow the step so a long line costs linear time.
        wanted = max(chunk_bytes, 2 * (len(run) - after))
        carry, index = run.tail(after), 0


def _owned(run: InflatedRun, starts: np.ndarray, range_end: Optional[int], stop: Optional[Pos]) -> int:
    """How many of ``starts`` (ascending) the range owns."""
    owned = len(starts)
    if stop is not None:  # lines named below the split's (or index chunk's) end
        owned = int(np.searchsorted(run.virtual_offsets(starts), stop.virtual, side="left"))
    if range_end is not None:
        # The block holding each line's first byte: the last block whose data starts at or before it.
        blocks = run.block_starts[np.searchsorted(run.data_starts, starts[:owned], side="right") - 1]
        owned = int(np.searchsorted(blocks, range_end, side="left"))
    return owned
