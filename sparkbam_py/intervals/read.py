"""Executor side: read one :class:`IntervalPartition` as Arrow record batches.

For each chunk piece: walk the records from its start while their start is below its end,
keep those overlapping the partition's intervals (htslib's test, below), decode only the
kept ones.  Unplaced pieces keep the refID -1 reads instead.  Pieces are disjoint, so no
record is read twice; a record is tested against the union of the intervals, so
overlapping intervals never duplicate it either.

Overlap is htslib's (``hts_itr_next``): a record on the interval's reference overlaps
``[beg, end)`` when ``pos < end`` and ``bam_endpos > beg``, ``bam_endpos`` being ``pos`` plus
the reference length of its CIGAR (the CG tag's ops for long CIGARs, SAMv1 §4.2.2), and
``pos + 1`` for unmapped reads or CIGARs covering no reference base.  So an unmapped read
placed at its mate's position overlaps when that position is inside the interval.
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from ..bam.decode import decode_records
from ..bam.header import BamHeader
from ..bam.layout import BLOCK_SIZE_BYTES
from ..bam.schema import resolve_columns
from ..bam.typed_tags import TagSpec
from ..bam.walk import DEFAULT_CHUNK_BYTES, RecordChunk, iter_record_chunks
from ..bgzf.reader import BgzfReader
from ..channel import open_channel
from ..config import CheckerConfig
from ..errors import InputIOError, SplitVerificationError
from ..bam.splits import ByteRange, SplitReader, SplitTask, header_for, physical_pos
from .pieces import ChunkPiece, TailRange
from .plan import IntervalPartition

# Walker step sizing (see run_bytes_for): 4 full BGZF blocks of data at least (SAMv1 §4.1:
# 64 KiB each), a quarter of the piece's compressed span otherwise.
MIN_RUN_BYTES = 4 << 16
RUN_SPAN_FRACTION = 4


class OverlapTest:
    """htslib's overlap test against sorted, disjoint intervals per reference, vectorised."""

    def __init__(self, intervals: Sequence[Tuple[int, int, int]]):
        by_ref: Dict[int, list] = {}
        for ref_id, beg, end in intervals:
            by_ref.setdefault(ref_id, []).append((beg, end))
        self.intervals = {ref: (np.array([b for b, _ in spans], dtype=np.int64),
                                np.array([e for _, e in spans], dtype=np.int64))
                          for ref, spans in by_ref.items()}
        self.ref_ids = np.array(sorted(self.intervals), dtype=np.int32)

    def keep(self, chunk: RecordChunk, fixed: np.ndarray, reference_names: Sequence[str]) -> np.ndarray:
        """Which records of ``chunk`` (fixed fields ``fixed``) overlap an interval.

        A record starting inside an interval overlaps whatever its end; only records that
        start before an interval need their end, so only they go through the CIGAR decode.
        """
        ref_ids, pos = fixed["ref_id"], fixed["pos"].astype(np.int64)
        keep = np.zeros(len(fixed), dtype=bool)
        before, next_starts = [], []
        for ref_id in np.intersect1d(ref_ids, self.ref_ids):
            records = np.flatnonzero(ref_ids == ref_id)
            starts, stops = self.intervals[int(ref_id)]
            first = np.searchsorted(stops, pos[records], side="right")  # first interval ending past pos
            ahead = first < len(stops)
            records, first = records[ahead], first[ahead]
            inside = starts[first] <= pos[records]
            keep[records[inside]] = True
            before.append(records[~inside])
            next_starts.append(starts[first[~inside]])
        if before:
            records = np.concatenate(before)
            if len(records):
                ends = reference_ends(chunk, records, pos[records], reference_names)
                keep[records] = ends > np.concatenate(next_starts)
        return keep


def reference_ends(chunk: RecordChunk, records: np.ndarray, pos: np.ndarray,
                   reference_names: Sequence[str]) -> np.ndarray:
    """``bam_endpos`` of ``records``: the decoder's ``reference_end`` (CIGAR or CG tag),
    ``pos + 1`` where it is null (unmapped, no CIGAR)."""
    order = np.argsort(records, kind="stable")  # the decoder wants ascending offsets
    batch = decode_records(chunk.run.data, chunk.offsets[records[order]], reference_names, ["reference_end"])
    column = batch.column(0)
    ends = np.empty(len(records), dtype=np.int64)
    ends[order] = column.fill_null(-1).to_numpy().astype(np.int64)
    nulls = np.empty(len(records), dtype=bool)
    nulls[order] = column.is_null().to_numpy(zero_copy_only=False)
    return np.where(nulls, pos + 1, ends)


def read_interval_partition(partition: IntervalPartition, columns: Optional[Sequence[str]] = None,
                            with_file_position: bool = False, channel=None,
                            typed_tags: Optional[TagSpec] = None) -> Iterator[pa.RecordBatch]:
    """The records of ``partition`` as batches of :func:`~sparkbam_py.bam.schema.bam_schema`
    (``columns``, the ``typed_tags`` struct when a spec is given, optionally ``file_position``);
    only non-empty batches are yielded.

    ``channel``: an open channel over the partition's file to read through (the caller keeps
    it, e.g. to read its counters); by default the task opens and closes its own.  Tail
    ranges always open their own, through the split reader.
    """
    if channel is None:
        with open_channel(partition.path) as own:
            yield from read_interval_partition(partition, columns, with_file_position, own, typed_tags)
        return
    names = resolve_columns(columns)
    if channel.size != partition.file_size:
        raise InputIOError(
            f"the file is {channel.size} bytes now but was {partition.file_size} when the "
            "intervals were planned; it changed while being read", partition.path)
    reader = BgzfReader(channel, verify_checksums=partition.verify_checksums)
    header = header_for(partition.path, partition.file_size, partition.header, reader)
    overlap = OverlapTest(partition.intervals)
    decoder = _Decoder(header, names, with_file_position, partition.path, typed_tags)
    for piece in partition.pieces:
        unplaced = isinstance(piece, TailRange) or piece.unplaced
        chunks = _tail_range_chunks(partition, piece, header) if isinstance(piece, TailRange) \
            else _piece_chunks(reader, piece)
        for chunk, fixed in chunks:
            keep = fixed["ref_id"] == -1 if unplaced else overlap.keep(chunk, fixed, header.reference_names)
            if keep.any():
                yield decoder.decode(chunk, keep)


class _Decoder:
    def __init__(self, header: BamHeader, columns, with_file_position: bool, path: str,
                 typed_tags: Optional[TagSpec] = None):
        self.names, self.columns = header.reference_names, columns
        self.with_file_position, self.path, self.typed_tags = with_file_position, path, typed_tags

    def decode(self, chunk: RecordChunk, keep: np.ndarray) -> pa.RecordBatch:
        offsets = chunk.offsets[keep]
        positions = chunk.run.virtual_offsets(offsets) if self.with_file_position else None
        return decode_records(chunk.run.data, offsets, self.names, self.columns, positions, path=self.path,
                              typed_tags=self.typed_tags)


def _piece_chunks(reader: BgzfReader, piece: ChunkPiece) -> Iterator[Tuple[RecordChunk, np.ndarray]]:
    """The piece's records (and their fixed fields) up to ``stop_at``; for a planner's cut
    read to its end, checks the chain lands exactly on the cut."""
    landing = piece.start
    walk = iter_record_chunks(_BlockByBlock(reader), piece.start, piece.end, run_bytes_for(piece))
    for chunk in walk:
        if not len(chunk):
            continue
        fixed = chunk.fixed_fields()
        past = _first_past(fixed, piece.stop_at)
        if past is not None:
            if past:
                yield RecordChunk(chunk.run, chunk.offsets[:past]), fixed[:past]
            return  # nothing further in the piece can overlap (so no landing to check)
        last = int(chunk.offsets[-1])
        block_size = int(np.frombuffer(chunk.run.raw, "<i4", 1, last)[0])
        landing = chunk.run.pos_at(last + BLOCK_SIZE_BYTES + block_size)
        yield chunk, fixed
    if piece.verify_end and physical_pos(reader, landing) != physical_pos(reader, piece.end):
        raise SplitVerificationError(
            f"the records from {piece.start} chain on to {landing}, not to {piece.end}, where the "
            "index said a record starts; reads would be lost or duplicated (index stale for this BAM?)",
            reader.path, landing)


def _first_past(fixed: np.ndarray, stop_at: Optional[Tuple[int, int]]) -> Optional[int]:
    """Index of the first record on ``stop_at``'s reference at or past its position (see
    :class:`~sparkbam_py.intervals.pieces.ChunkPiece`); None if there is none."""
    if stop_at is None:
        return None
    ref_id, end = stop_at
    past = (fixed["ref_id"] == ref_id) & (fixed["pos"] >= end)
    found = np.flatnonzero(past)
    return int(found[0]) if len(found) else None


class _BlockByBlock:
    """The reader's blocks one at a time through its caches, for the walker.

    The walker's default sequential path reads 256 KiB spans ahead; a piece that stops at a
    region's end would fetch most of that for nothing.  Block by block, a walk that stops
    has fetched at most one 64 KiB channel page past its last block.
    """

    def __init__(self, reader: BgzfReader):
        self.reader = reader
        self.path = reader.path

    def iter_blocks(self, start: int, stop: Optional[int] = None) -> Iterator:
        size = self.reader.size
        while start < size and (stop is None or start < stop):
            block = self.reader.block(start)
            yield block
            start = block.end


def run_bytes_for(piece: ChunkPiece) -> int:
    """How much inflated data the walker gathers per step for this piece.

    The walker reads blocks until a step holds this much, and a piece stops early at its
    last region's end: a step of about a twelfth of the piece's data (a quarter of its
    compressed span; BAM compresses 3-4x) bounds what is read past that point, while big
    pieces still decode in large batches.
    """
    span = piece.end.block_pos - piece.start.block_pos
    return int(min(DEFAULT_CHUNK_BYTES, max(MIN_RUN_BYTES, span // RUN_SPAN_FRACTION)))


def _tail_range_chunks(partition: IntervalPartition, piece: TailRange,
                       header: BamHeader) -> Iterator[Tuple[RecordChunk, np.ndarray]]:
    """A byte range of the unplaced tail, through the split reader (record-start search and
    boundary verification)."""
    task = SplitTask(partition.path, partition.file_size, ByteRange(piece.start, piece.end), header,
                     CheckerConfig(verify_checksums=partition.verify_checksums))
    with SplitReader(task) as split:
        for chunk in split.iter_chunks():
            yield chunk, chunk.fixed_fields()


