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
from ..bgzf.sequential import open_runs
from ..errors import CorruptRecordError, TruncatedError
from ..pos import Pos
from ..kernels import compiled
from .layout import BLOCK_SIZE_BYTES, MIN_BLOCK_SIZE, gather_fixed_fields

# Inflated bytes per chunk: big enough to amortise numpy calls, small enough that the joined
# run stays in the CPU cache while it is walked and decoded (4 MiB chunks counted 1.5x and
# decoded 1.1x slower than 1 MiB ones on the short-read bench BAM; bench/bench_native.py).
DEFAULT_CHUNK_BYTES = 1 << 20
# Counting only walks the chain, so no numpy call needs amortising: chunks that stay in the
# L2 cache count ~15% faster than 1 MiB ones.
COUNT_CHUNK_BYTES = 256 << 10

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
    reader: BgzfReader, start: Pos, stop: Optional[Pos] = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    reuse_buffer: bool = False,
) -> Iterator[RecordChunk]:
    """Records whose start position is at or after ``start`` and below ``stop``.

    ``start`` must be a record start (the header's end, or a checked split start). The
    last record before ``stop`` is read whole even when it runs past ``stop``.
    ``reuse_buffer``: each chunk's data overwrites the previous one's (for callers that
    keep nothing of a chunk once they ask for the next).
    """
    stop_virtual = None if stop is None else stop.virtual
    carry: Optional[InflatedRun] = None
    index = start.offset
    runs = open_runs(reader, start.block_pos, chunk_bytes, reuse_buffer, None if stop is None else stop.block_pos + 1)
    while True:
        run = runs.next_run(carry)
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


def walk_chain(run: InflatedRun, index: int, path: Optional[str] = None) -> Tuple[np.ndarray, int]:
    """Offsets of the complete records chained from ``index``, and where the chain stops.

    The one inherently sequential loop of the library (each record's length says where the
    next one starts): compiled (see :mod:`sparkbam_py.kernels`) unless the Python path is selected.
    """
    kernel = compiled(chain_kernel)
    if kernel is None:
        return walk_chain_python(run, index, path)
    end = len(run.raw)
    offsets = np.empty(max(0, (end - index) // (BLOCK_SIZE_BYTES + MIN_BLOCK_SIZE) + 1), dtype=np.int64)
    count, index, bad = kernel(run.data, index, MIN_BLOCK_SIZE, offsets)
    if bad >= 0:
        _raise_below_minimum(run, bad, path)
    return offsets[:count].copy(), index


def chain_kernel(data: np.ndarray, index: int, min_block_size: int, offsets: np.ndarray):
    """The chain walk over uint8 ``data``, numba-compiled: ``(records, stop index, bad index)``.

    Fills ``offsets`` (room for every record that could fit) and returns how many it
    found; ``bad`` is the offset of a record whose block_size is below the minimum, else -1.
    """
    end = len(data)
    count = 0
    while index + 4 <= end:
        # SAMv1 §4.2: block_size is a little-endian int32.
        unsigned = (np.int64(data[index]) | (np.int64(data[index + 1]) << 8) | (np.int64(data[index + 2]) << 16)
                    | (np.int64(data[index + 3]) << 24))
        block_size = unsigned - (np.int64(1) << 32) if unsigned >= (np.int64(1) << 31) else unsigned
        following = index + 4 + block_size
        if following > end:
            break
        if block_size < min_block_size:
            return count, index, index
        offsets[count] = index
        count += 1
        index = following
    return count, index, -1


def walk_chain_python(run: InflatedRun, index: int, path: Optional[str] = None) -> Tuple[np.ndarray, int]:
    """:func:`walk_chain` in plain Python: block_size is read through four int32 views of
    the data, one per alignment, which is ~35% faster than ``struct.unpack_from``."""
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
            _raise_below_minimum(run, index, path)
        append(index)
        index = following
    return np.array(offsets, dtype=np.int64), index


def _raise_below_minimum(run: InflatedRun, index: int, path: Optional[str]) -> None:
    block_size = int(np.frombuffer(run.raw, dtype="<i4", count=1, offset=index)[0])
    raise CorruptRecordError(
        f"record block_size {block_size} is below the minimum {MIN_BLOCK_SIZE}", path, run.pos_at(index)
    )


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
    chunks = iter_record_chunks(reader, start, stop, COUNT_CHUNK_BYTES, reuse_buffer=True)
    return sum(len(chunk) for chunk in chunks)
