"""A coordinate sort's exchange in blocks of records: packed by the reading tasks, sorted by the writing ones.

``view_bam(sort=True)`` does not make one Spark row per read.  The task reading a split
buckets its kept records by output range (:class:`~.sort_plan.SortPlan`) and makes, per
range and flush, one :class:`RangeBlock`: where it comes from in the input, the 64-bit
keys, the reference ends, the record sizes and the records' bytes back to back.  Through
Spark's shuffle a block travels as one row (:data:`BLOCKS_SCHEMA`: the range, its slot as
the shuffle key, and four binary values, the records zstd-compressed), so Spark moves a
few thousand large values instead of millions of rows, and never sorts; on a local master
blocks go through files instead (:mod:`.sort_spill`).  The task writing a range puts its
blocks in input order, orders their records by key with a stable sort (ties keep input
order, as samtools sort keeps them), gathers the records in that order and writes the
range's part exactly as any sorted write does (index pieces, ``.sbi`` offsets).

A record that reaches a range it does not belong to is refused (:class:`CommitError`),
never written: the parts would no longer concatenate into a sorted BAM.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Tuple

import numpy as np
import pyarrow as pa

from ..bam.ragged import take_byte_ranges
from ..arrow_buffers import text_buffers
from .encode import EncodedRecords
from .errors import CommitError
from .job import WriteJob
from .part import PartSummary
from .sort_plan import SortPlan
from .sort_rows import encoded_records, record_keys

BLOCK_RANGE = "_sparkbam_range"
BLOCK_SLOT = "_sparkbam_slot"
BLOCK_SOURCE = "_sparkbam_source"
BLOCK_KEYS = "_sparkbam_keys"
BLOCK_ENDS = "_sparkbam_ends"
BLOCK_SIZES = "_sparkbam_sizes"
BLOCK_RECORDS = "_sparkbam_records"
_BINARY_COLUMNS = (BLOCK_KEYS, BLOCK_ENDS, BLOCK_SIZES, BLOCK_RECORDS)
BLOCKS_SCHEMA = pa.schema([pa.field(BLOCK_RANGE, pa.int32(), False), pa.field(BLOCK_SLOT, pa.int32(), False),
                           pa.field(BLOCK_SOURCE, pa.int64(), False)]
                          + [pa.field(name, pa.binary(), False) for name in _BINARY_COLUMNS])
BLOCKS_DDL = (f"{BLOCK_RANGE} int, {BLOCK_SLOT} int, {BLOCK_SOURCE} bigint, {BLOCK_KEYS} binary, "
              f"{BLOCK_ENDS} binary, {BLOCK_SIZES} binary, {BLOCK_RECORDS} binary")
# Record bytes a reading task buckets before sending its blocks: bounds its memory, and
# keeps blocks large (a flush sends at most one block per range).
FLUSH_BYTES = 64 << 20
# A source is (split number, flush number): the flush number in the low bits.
_FLUSH_BITS = 32
# The records travel zstd-compressed (level 1: ~2.5x on BAM records at ~300 MB/s): the JVM
# then copies, shuffles and lz4-frames 2.5x fewer bytes, which costs it more than zstd costs
# the Python side (measured: JVM CPU 18 -> 11 s, Python +2 s, on 1.2 GB of records).
SHUFFLE_CODEC = pa.Codec("zstd", compression_level=1)
# Records gathered and handed to the part writer at once.
WRITE_RECORDS = 1 << 16


def block_source(split_number: int, flush: int) -> int:
    """A block's place in the input: its split, then its flush within the split."""
    return (split_number << _FLUSH_BITS) + flush


@dataclass(frozen=True)
class RangeBlock:
    """Records of one range from one split (one flush of it, when bucketed): keys, ends, sizes,
    and their bytes as stored."""

    source: int  # (split number << 32) + flush number: input order
    keys: np.ndarray  # int64 coordinate keys
    ends: np.ndarray  # int64 reference ends
    sizes: np.ndarray  # int32 record sizes
    stored: np.ndarray  # uint8: the records back to back, zstd-compressed when ``compressed``
    compressed: bool = False

    def records(self) -> np.ndarray:
        """The records' bytes back to back."""
        if not self.compressed:
            return self.stored
        return _unpacked(self.stored, int(self.sizes.sum(dtype=np.int64)))


class RangeBuckets:
    """A reading task's kept records, bucketed by output range until :meth:`take`."""

    def __init__(self, plan: SortPlan, split_number: int):
        self.plan = plan
        self.split_number = split_number
        self.flushes = 0
        self.buffered = 0
        self._pieces: Dict[int, List[tuple]] = defaultdict(list)

    def add(self, records: EncodedRecords) -> None:
        keys = record_keys(records)
        ranges = self.plan.range_of(keys, self.split_number)
        order = np.argsort(ranges, kind="stable")  # by range, input order within each
        sizes = np.diff(records.offsets)
        gathered = take_byte_ranges(records.data, records.offsets[:-1], sizes, order)
        counts = np.bincount(ranges, minlength=self.plan.ranges)
        cuts = np.concatenate([[0], np.cumsum(counts)])
        keys, ends, sizes = keys[order], records.end[order].astype(np.int64), sizes[order].astype(np.int32)
        for target in np.flatnonzero(counts).tolist():
            first, last = cuts[target], cuts[target + 1]
            data = gathered.values[gathered.offsets[first]:gathered.offsets[last]]
            self._pieces[target].append((keys[first:last], ends[first:last], sizes[first:last], data))
        self.buffered += len(records.data)

    def take(self) -> List[Tuple[int, RangeBlock]]:
        """(range, block) for every range holding records since the last take, ranges ascending."""
        source = block_source(self.split_number, self.flushes)
        blocks = [(target, RangeBlock(source, *(np.concatenate([piece[field] for piece in self._pieces[target]])
                                                for field in range(4))))
                  for target in sorted(self._pieces)]
        self._pieces.clear()
        self.buffered = 0
        self.flushes += 1
        return blocks


def range_blocks(chunks: Iterable[EncodedRecords], plan: SortPlan, split_number: int,
                 flush_bytes: int = FLUSH_BYTES) -> Iterator[List[Tuple[int, RangeBlock]]]:
    """A reading task's records as blocks, one per range and flush (every ``flush_bytes``)."""
    buckets = RangeBuckets(plan, split_number)
    for records in chunks:
        if len(records):
            buckets.add(records)
            if buckets.buffered >= flush_bytes:
                yield buckets.take()
    if buckets.buffered:
        yield buckets.take()


def blocks_of_records(chunks: Iterable[EncodedRecords], plan: SortPlan, split_number: int,
                      flush_bytes: int = FLUSH_BYTES) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` output of a reading task: its records in blocks, one row per range and flush."""
    for blocks in range_blocks(chunks, plan, split_number, flush_bytes):
        yield _batch_of(blocks, plan)


def _batch_of(blocks: List[Tuple[int, RangeBlock]], plan: SortPlan) -> pa.RecordBatch:
    targets = [target for target, _ in blocks]
    columns = [pa.array(targets, pa.int32()), pa.array(plan.slots[targets], pa.int32()),
               pa.array([block.source for _, block in blocks], pa.int64()),
               _binary([block.keys for _, block in blocks]), _binary([block.ends for _, block in blocks]),
               _binary([block.sizes for _, block in blocks]), _binary([_packed(block.records()) for _, block in blocks])]
    return pa.RecordBatch.from_arrays(columns, schema=BLOCKS_SCHEMA)


def _binary(values: List[np.ndarray]) -> pa.Array:
    """A binary column of the raw bytes of numpy arrays, one value each, copied once."""
    raw = [np.ascontiguousarray(value).view(np.uint8).reshape(-1) for value in values]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(value) for value in raw], out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("a flush of more than 2 GiB of records cannot be one binary column")
    data = np.concatenate(raw) if raw else np.zeros(0, dtype=np.uint8)
    return pa.BinaryArray.from_buffers(pa.binary(), len(raw), [None, pa.py_buffer(offsets.astype(np.int32)),
                                                               pa.py_buffer(data)])


def _check_in_range(job: WriteJob, plan: SortPlan, target: int, blocks: List[RangeBlock]) -> None:
    """Every block's lowest and highest key in range ``target`` for its split, or a refusal."""
    for block in blocks:
        keys = block.keys
        if len(keys) and (plan.range_of(np.array([keys.min(), keys.max()]), block.source >> _FLUSH_BITS)
                          != target).any():
            raise CommitError(f"records of another range reached the sort's range {target}: refusing to write "
                              "them out of order", job.path)


def _packed(records: np.ndarray) -> np.ndarray:
    return np.frombuffer(SHUFFLE_CODEC.compress(records), dtype=np.uint8)


def _unpacked(packed: np.ndarray, size: int) -> np.ndarray:
    return np.frombuffer(SHUFFLE_CODEC.decompress(packed, decompressed_size=size), dtype=np.uint8)


def write_range_parts(job: WriteJob, plan: SortPlan, batches: Iterable[pa.RecordBatch],
                      attempt: int) -> List[PartSummary]:
    """A writing task: every range it received sorted and written as the part named by the range."""
    blocks = _blocks_by_range(batches)
    return [write_range(job, plan, target, blocks[target], attempt) for target in sorted(blocks)]


def _blocks_by_range(batches: Iterable[pa.RecordBatch]) -> Dict[int, List[RangeBlock]]:
    blocks: Dict[int, List[RangeBlock]] = defaultdict(list)
    for batch in batches:
        if not batch.num_rows:
            continue
        targets = batch.column(BLOCK_RANGE).to_numpy().tolist()
        sources = batch.column(BLOCK_SOURCE).to_numpy().tolist()
        binaries = [text_buffers(batch.column(name))[:2] for name in _BINARY_COLUMNS]
        for row, (target, source) in enumerate(zip(targets, sources)):
            keys, ends, sizes, stored = (data[offsets[row]:offsets[row + 1]] for data, offsets in binaries)
            blocks[target].append(RangeBlock(source, keys.view(np.int64), ends.view(np.int64), sizes.view(np.int32),
                                             stored, compressed=True))
    return blocks


def write_range(job: WriteJob, plan: SortPlan, target: int, blocks: List[RangeBlock], attempt: int) -> PartSummary:
    """Range ``target``'s blocks, in input order, sorted by key (stable) into its part."""
    blocks = sorted(blocks, key=lambda block: block.source)
    _check_in_range(job, plan, target, blocks)
    keys = np.concatenate([block.keys for block in blocks])
    ends = np.concatenate([block.ends for block in blocks])
    sizes = np.concatenate([block.sizes for block in blocks]).astype(np.int64)
    data = np.concatenate([block.records() for block in blocks])
    order = np.argsort(keys, kind="stable")
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    with job.open_part(target, attempt) as writer:
        for first in range(0, len(order), WRITE_RECORDS):
            chosen = order[first:first + WRITE_RECORDS]
            gathered = take_byte_ranges(data, starts, sizes, chosen)
            writer.write_records(encoded_records(gathered.values, gathered.offsets, ends[chosen]))
        return writer.finish(job.part_path(target, attempt), target, attempt, eof=job.sharded)
