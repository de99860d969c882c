"""The units of interval work: pieces of the BAM to read, their cost, and how they are cut
and grouped into partitions.

A :class:`ChunkPiece` is a ``[start, end)`` range of virtual offsets whose records an
executor walks (seek to ``start``, read records while their start is below ``end``).  A
:class:`TailRange` is a compressed byte range of the unplaced-read tail, read with the split
machinery because the index has no record offsets there.

Costs estimate compressed bytes as spark-bam's ``Pos`` distance does (spark-bam reference
§3.5): whole blocks between the two positions, plus the in-block difference divided by an
assumed compression ratio of 3.
"""
from __future__ import annotations

from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ..index.bai import ReferenceIndex
from ..index.chunks import Chunk
from ..pos import Pos
from ..bam.splits import compute_byte_ranges

# spark-bam loadBamIntervals' estimatedCompressionRatio (spark-bam reference §3.5).
ESTIMATED_COMPRESSION_RATIO = 3.0
# Every piece inflates at least the block it starts in: up to 64 KiB of data (SAMv1 §4.1),
# about 64 KiB / 3 compressed.  Without it, thousands of tiny pieces would look free.
PIECE_OVERHEAD = (1 << 16) / ESTIMATED_COMPRESSION_RATIO


def distance(start: Pos, end: Pos) -> float:
    """Estimated compressed bytes between two virtual positions (never negative)."""
    blocks = end.block_pos - start.block_pos
    return max(0.0, blocks + (end.offset - start.offset) / ESTIMATED_COMPRESSION_RATIO)


class ChunkPiece(NamedTuple):
    """Records whose start lies in ``[start, end)``; ``start`` is a record start.

    ``unplaced``: keep the refID -1 reads of the tail, not reads overlapping the intervals.
    ``verify_end``: ``end`` is a cut the planner chose inside an index chunk; the reader
    checks the record chain lands exactly on it (it must be a record start).
    ``stop_at``: ``(ref_id, end)``: the reference whose records come last in the piece and
    the end of its last interval the piece serves.  The reader stops at the first record on
    that reference starting at or past ``end``, as htslib's iterator stops at the first
    record past its region: nothing after it in the piece can overlap (``None``: read to
    ``end``; the planner's reasoning is in ``plan._with_stop``).
    """

    start: Pos
    end: Pos
    unplaced: bool = False
    verify_end: bool = False
    stop_at: Optional[Tuple[int, int]] = None

    @property
    def cost(self) -> float:
        return distance(self.start, self.end) + PIECE_OVERHEAD


class TailRange(NamedTuple):
    """Compressed bytes ``[start, end)`` of the unplaced tail, read as a split (its records
    are those whose first byte lies in a block starting in the range); keeps refID -1 only."""

    start: int
    end: int

    @property
    def cost(self) -> float:
        return float(self.end - self.start)


Piece = Union[ChunkPiece, TailRange]


def record_starts(references: Iterable[ReferenceIndex]) -> np.ndarray:
    """Sorted virtual offsets the index knows to be record starts, for cutting chunks.

    Linear-index entries (SAMv1 §5.2: the first record overlapping each 16 kbp window), CSI
    bin ``loffset`` (CSIv1), chunk starts and the pseudo-bin's ``ref_beg`` are all offsets a
    writer took just before writing a record.  0 (the header) never is, so it is left out.
    """
    offsets: List[int] = []
    for reference in references:
        offsets.extend(reference.linear_index)
        for bin_ in reference.bins.values():
            if bin_.loffset is not None:
                offsets.append(bin_.loffset.virtual)
            offsets.extend(chunk.start.virtual for chunk in bin_.chunks)
        if reference.metadata is not None:
            offsets.append(reference.metadata.ref_beg.virtual)
    starts = np.unique(np.asarray(offsets, dtype=np.uint64))
    return starts[starts > 0]


def cut_chunk(chunk: Chunk, starts: np.ndarray, cap: float) -> List[ChunkPiece]:
    """``chunk`` as pieces of at most ``cap`` estimated bytes, cut at known record starts.

    Greedy: each piece runs to the last record start that keeps it within the cap.  Where
    no record start is known within the cap, the piece runs to the next one (it may then
    exceed the cap; a chunk without record starts inside stays whole).
    """
    if distance(chunk.start, chunk.end) <= cap:
        return [ChunkPiece(chunk.start, chunk.end)]
    lo = np.searchsorted(starts, np.uint64(chunk.start.virtual), side="right")
    hi = np.searchsorted(starts, np.uint64(chunk.end.virtual), side="left")
    inside = [Pos.from_virtual(int(v)) for v in starts[lo:hi]]
    pieces: List[ChunkPiece] = []
    piece_start = chunk.start
    previous = None  # the last record start past piece_start seen so far
    for candidate in inside + [chunk.end]:
        if previous is not None and distance(piece_start, candidate) > cap:
            pieces.append(ChunkPiece(piece_start, previous, verify_end=True))
            piece_start = previous
        previous = candidate
    pieces.append(ChunkPiece(piece_start, chunk.end))
    return pieces


def tail_ranges(start_block: int, file_size: int, cap: int) -> List[TailRange]:
    """``[start_block, file_size)`` in ranges of ``cap`` bytes, the last absorbing a
    remainder under 10% of ``cap`` (Hadoop's SPLIT_SLOP, as the split planner does)."""
    return [TailRange(start_block + r.start, start_block + r.end)
            for r in compute_byte_ranges(file_size - start_block, cap)]


def group_pieces(pieces: Sequence[Piece], cap: float) -> List[List[Piece]]:
    """Consecutive pieces grouped while their summed cost stays within ``cap``; a piece
    over the cap alone is a group of its own (spark-bam ``cappedCostGroups``, EmitAlone)."""
    groups: List[List[Piece]] = []
    current: List[Piece] = []
    total = 0.0
    for piece in pieces:
        if current and total + piece.cost > cap:
            groups.append(current)
            current, total = [], 0.0
        current.append(piece)
        total += piece.cost
    if current:
        groups.append(current)
    return groups
