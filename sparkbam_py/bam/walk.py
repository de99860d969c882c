"""Walk BAM records by their block_size chain, from any position, across any blocks.

The walk yields chunks: a run of inflated data plus the offsets of the complete records
in it. A record cut by the end of a chunk is carried into the next one, so records of any
length (long reads span dozens of blocks) come out whole. No record is decoded here;
``layout.gather_fixed_fields`` and ``decode`` work on the chunks, vectorised.
"""
from __future__ import annotations

import array
import sys
from typing import Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

from ..bgzf.reader import BgzfReader
from ..bgzf.run import InflatedRun
from ..errors import CorruptRecordError, TruncatedError
from ..pos import Pos
from .layout import BLOCK_SIZE_BYTES, MIN_BLOCK_SIZE, gather_fixed_fields

DEFAULT_CHUNK_BYTES = 4 << 20  # inflated bytes per chunk: big enough to amortise numpy calls

class RecordChunk(NamedTuple):
    """Complete records: ``offsets`` index their block_size fields in ``run.raw``."""

    run: InflatedRun
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)

    def virtual_offsets(self) -> np.ndarray:
        return self.run.virtual_offsets(self.offsets)

    def fixed_fields(self) -> np.ndarray:
        return gather_fixed_fields(self.run.data, self.offsets)


def iter_record_chunks(
    reader: BgzfReader, start: Pos, stop: Optional[Pos] = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[RecordChunk]:
    """Records whose start position is at or after ``start`` and below ``stop``.

    ``start`` must be a record start (the header's end, or a checked split start). The
    last record before ``stop`` is read whole even when it runs past ``stop``.
    """
    stop_virtual = None if stop is None else stop.virtual
    carry: Optional[InflatedRun] = None
    index = start.offset
    blocks = reader.iter_blocks(start.block_pos)
    while True:
        run = _next_run(blocks, carry, chunk_bytes)
        offsets, index = walk_chain(run, index, reader.path)
        if stop_virtual is not None and len(offsets):
            keep = run.virtual_offsets(offsets) < stop_virtual
            if not keep.all():
                yield RecordChunk(run, offsets[keep])
                return
        if len(offsets):
            yield RecordChunk(run, offsets)
        if run.at_end:
            _check_clean_end(run, index, reader.path)
            return
        if stop_virtual is not None and run.virtual_offsets([index])[0] >= stop_virtual:
            return
        carry, index = run.tail(index), 0


def _next_run(blocks: Iterator, carry: Optional[InflatedRun], chunk_bytes: int) -> InflatedRun:
    taken: List = []
    have = len(carry) if carry is not None else 0
    for block in blocks:
        taken.append(block)
        have += len(block.data)
        if have >= chunk_bytes:
            return InflatedRun.from_blocks(taken, block.end, False, carry)
    next_block = taken[-1].end if taken else int(carry.block_starts[-1]) if carry is not None else 0
    return InflatedRun.from_blocks(taken, next_block, True, carry)


def walk_chain(run: InflatedRun, index: int, path: Optional[str] = None) -> Tuple[np.ndarray, int]:
    """Offsets of the complete records chained from ``index``, and where the chain stops.

    The one inherently sequential loop of the library (each record's length says where the
    next one starts), so it is kept minimal: block_size is read through four int32 views
    of the data, one per alignment, which is ~35% faster than ``struct.unpack_from``.
    """
    raw = run.raw
    end = len(raw)
    views = _int32_views(raw)
    offsets: List[int] = []
    append = offsets.append
    limit = end - BLOCK_SIZE_BYTES
    while index <= limit:
        block_size = views[index & 3][index >> 2]
        following = index + BLOCK_SIZE_BYTES + block_size
        if following > end:
            break
        if block_size < MIN_BLOCK_SIZE:
            raise CorruptRecordError(
                f"record block_size {block_size} is below the minimum {MIN_BLOCK_SIZE}", path, run.pos_at(index)
            )
        append(index)
        index = following
    return np.array(offsets, dtype=np.int64), index


def _int32_views(raw: bytes) -> List:
    """``views[a][k]`` is the little-endian int32 at byte ``4k + a`` (SAMv1 §4.2: BAM is
    little-endian); zero-copy on little-endian hosts, byte-swapped copies elsewhere."""
    if sys.byteorder == "little":
        whole = memoryview(raw)
        return [whole[a : a + (len(raw) - a) // 4 * 4].cast("i") for a in range(4)]
    views = []
    for a in range(4):
        words = array.array("i", raw[a : a + (len(raw) - a) // 4 * 4])
        words.byteswap()
        views.append(words)
    return views


def _check_clean_end(run: InflatedRun, index: int, path: Optional[str]) -> None:
    if index < len(run):
        raise TruncatedError(
            f"the data ends {len(run) - index} bytes into a record (truncated file?)", path, run.pos_at(index)
        )


def count_records(reader: BgzfReader, start: Pos, stop: Optional[Pos] = None) -> int:
    """How many records start in ``[start, stop)``: the chain walk alone, nothing decoded."""
    return sum(len(chunk) for chunk in iter_record_chunks(reader, start, stop))
