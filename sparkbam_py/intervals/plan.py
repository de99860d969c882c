"""Driver side: region strings -> index chunks -> merged -> cut -> partitions.

1. Regions are parsed as samtools does (:mod:`~sparkbam_py.index.regions`); ``"*"`` asks
   for the unplaced unmapped reads at the end of the file.
2. Each region's chunks come from the BAI/CSI (htslib's query rule, SAMv1 §5.1.3), all of
   them merged so that no byte range is read twice (htsjdk ``optimizeChunkList``).
3. A merged chunk over the split size is cut at record starts the index itself records, so a
   whole-contig query spreads over many partitions (spark-bam made one partition of it).
4. Consecutive pieces are grouped up to the split size (spark-bam ``cappedCostGroups``).

Each :class:`IntervalPartition` carries just the intervals whose chunks meet its pieces,
the header's reference names (unless huge), and the file size to detect a changed file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from ..bam.file import open_bam
from ..bam.header import BamHeader
from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..index.chunks import Chunk, chunks_for_reference, merge_chunks
from ..index.regions import UNPLACED, Region, parse_regions
from ..pos import Pos
from ..bam.splits import shippable_header
from .filters import split_intervals
from .index_access import IndexAccess, open_index
from .pieces import ChunkPiece, Piece, TailRange, cut_chunk, distance, group_pieces, record_starts, tail_ranges

RegionsLike = Union[str, Sequence[Union[str, Region]]]
# An interval as the executor tests it: (ref_id, beg, end), 0-based half-open.
Interval = Tuple[int, int, int]


@dataclass(frozen=True)
class IntervalPartition:
    """One Spark partition of an interval query: what to read and what to keep.

    ``pieces`` are in file order and disjoint; ``intervals`` are sorted and merged per
    reference.  ``header`` is the reference dictionary without the SAM text, or None when it
    is too big to ship (the executor then reads it).  Pickles small.
    """

    path: str
    file_size: int
    index: int
    pieces: Tuple[Piece, ...]
    intervals: Tuple[Interval, ...]
    header: Optional[BamHeader]
    estimated_bytes: int
    # Check every BGZF block's CRC32 while reading (see bgzf.inflate).
    verify_checksums: bool = True

    def __str__(self) -> str:
        return f"partition {self.index}: {len(self.pieces)} pieces, ~{self.estimated_bytes} bytes"


def resolve_regions(regions: RegionsLike, header: BamHeader) -> Tuple[List[Region], bool]:
    """Placed regions (strings parsed samtools-style, :class:`Region` kept as given) and
    whether ``"*"`` was asked for.  One string may hold several, comma-separated."""
    if isinstance(regions, str):
        regions = split_intervals(regions)
    texts = [r for r in regions if isinstance(r, str)]
    parsed = iter(parse_regions(texts, header.reference_names, header.reference_lengths))
    resolved = [next(parsed) if isinstance(r, str) else Region(*r) for r in regions]
    placed = [r for r in resolved if r.ref_id >= 0]
    return placed, len(placed) < len(resolved)


def plan_interval_partitions(path, regions: RegionsLike, split_size=None, *,
                             index_path: Optional[str] = None, use_bai_json: bool = True,
                             verify_checksums: bool = True) -> List[IntervalPartition]:
    """The partitions that read exactly the records overlapping ``regions`` (see module doc).

    ``regions``: samtools region strings (``"chr1:1,000-2,000"``, ``"chr2"``, ``"{HLA:1}"``,
    ``"*"``), or :class:`Region` objects taken as they are (0-based, half-open, not capped:
    :func:`regions_from_filters` makes such).  ``split_size`` caps the estimated compressed
    bytes per partition (default 32 MiB).  An empty list means no record can match.
    ``verify_checksums=False`` skips the BGZF CRC32 checks, here and in the partitions' reads.
    """
    path = str(path)
    with open_bam(path, verify_checksums) as bam:
        header, file_size = bam.header, bam.size
    with open_index(path, index_path, use_bai_json) as index:
        return plan_with_index(path, file_size, header, index, regions, split_size, verify_checksums)


def plan_with_index(path: str, file_size: int, header: BamHeader, index: IndexAccess,
                    regions: RegionsLike, split_size=None, verify_checksums: bool = True) -> List[IntervalPartition]:
    """:func:`plan_interval_partitions` with the header and index already open."""
    cap = parse_size(split_size if split_size is not None else DEFAULT_SPLIT_SIZE)
    placed, unplaced = resolve_regions(regions, header)
    region_chunks = [_chunks_of(index, region) for region in placed]
    pieces = _placed_pieces(index, placed, region_chunks, cap)
    if unplaced:
        pieces.extend(_tail_pieces(index, header, file_size, cap))
    pieces, served = _serving_pieces(pieces, placed, region_chunks)
    groups, group_regions = _grouped(pieces, served, cap)
    intervals = [tuple(_merged_intervals([placed[i] for i in regions])) for regions in group_regions]
    shipped = shippable_header(header)
    return [
        IntervalPartition(path, file_size, i, tuple(group), intervals[i], shipped,
                          int(sum(piece.cost for piece in group)), verify_checksums)
        for i, group in enumerate(groups)
    ]


def _chunks_of(index: IndexAccess, region: Region) -> List[Chunk]:
    reference = index.reference(region.ref_id)
    if reference is None:
        return []
    return chunks_for_reference(reference, region.beg, region.end, index.min_shift, index.depth)


def _placed_pieces(index: IndexAccess, placed: List[Region], region_chunks: List[List[Chunk]],
                   cap: int) -> List[Piece]:
    """The merged chunks, those over ``cap`` cut at the index's record starts."""
    merged = merge_chunks(chunk for chunks in region_chunks for chunk in chunks)
    if all(distance(chunk.start, chunk.end) <= cap for chunk in merged):
        return [ChunkPiece(chunk.start, chunk.end) for chunk in merged]
    references = (index.reference(ref_id) for ref_id in sorted({r.ref_id for r in placed}))
    starts = record_starts(reference for reference in references if reference is not None)
    return [piece for chunk in merged for piece in cut_chunk(chunk, starts, cap)]


def _serving_pieces(pieces: List[Piece], placed: List[Region],
                    region_chunks: List[List[Chunk]]) -> Tuple[List[Piece], List[Set[int]]]:
    """The pieces that can hold a match, each with its ``stop_at``, and the regions each serves."""
    served, last_refs = _regions_per_piece(pieces, region_chunks, placed)
    kept = [i for i, piece in enumerate(pieces) if served[i] or _is_unplaced(piece)]
    return ([_with_stop(pieces[i], [placed[r] for r in served[i]], last_refs[i]) for i in kept],
            [served[i] for i in kept])


def _tail_pieces(index: IndexAccess, header: BamHeader, file_size: int, cap: int) -> List[Piece]:
    """The unplaced reads: from just after the last placed read (htslib's rule) to EOF.

    Small tails are one chunk piece from that exact record start; a tail over the cap is
    cut into byte ranges, whose record starts the split machinery finds and verifies.
    """
    start = index.unplaced_start() or header.end
    end = Pos(file_size, 0)  # past every record: read to the end of the data
    if distance(start, end) <= cap:
        return [ChunkPiece(start, end, unplaced=True)]
    return list(tail_ranges(start.block_pos, file_size, cap))


def _is_unplaced(piece: Piece) -> bool:
    return isinstance(piece, TailRange) or piece.unplaced


def _regions_per_piece(pieces: List[Piece], region_chunks: List[List[Chunk]],
                       placed: List[Region]) -> Tuple[List[Set[int]], List[Optional[int]]]:
    """For each piece, the regions (indexes) whose chunks meet it, and the reference of the
    chunk that ends last in it.

    A record overlapping a region lies in one of that region's chunks, so only these regions
    can keep a record of the piece: shipping just their intervals keeps partitions small when
    a query has many.  A piece meeting no region's chunk holds no match at all.
    """
    served: List[Set[int]] = [set() for _ in pieces]
    last_end: List[int] = [-1] * len(pieces)
    last_ref: List[Optional[int]] = [None] * len(pieces)
    placed_pieces = [i for i, p in enumerate(pieces) if not _is_unplaced(p)]
    if not placed_pieces:
        return served, last_ref
    starts = np.array([pieces[i].start.virtual for i in placed_pieces], dtype=np.uint64)
    ends = np.array([pieces[i].end.virtual for i in placed_pieces], dtype=np.uint64)
    for region, chunks in enumerate(region_chunks):
        for chunk in chunks:
            first = int(np.searchsorted(ends, np.uint64(chunk.start.virtual), side="right"))
            last = int(np.searchsorted(starts, np.uint64(chunk.end.virtual), side="left"))
            for k in placed_pieces[first:last]:
                served[k].add(region)
                clipped_end = min(chunk.end.virtual, pieces[k].end.virtual)
                if clipped_end > last_end[k]:
                    last_end[k], last_ref[k] = clipped_end, placed[region].ref_id
    return served, last_ref


def _with_stop(piece: Piece, regions: List[Region], last_ref: Optional[int]) -> Piece:
    """The piece with ``stop_at``: the furthest end of its regions on ``last_ref``.

    Why that is safe in any indexed BAM (htslib's indexer requires it): a reference's records
    are contiguous and sorted by position, though references need not come in header order.
    So the chunks of different references do not interleave, the reference whose chunk ends
    last in the piece has its records last, and once one of them starts at or past its last
    interval's end, no later record in the piece can overlap a region it serves.
    """
    if _is_unplaced(piece) or last_ref is None:
        return piece
    return piece._replace(stop_at=(last_ref, max(r.end for r in regions if r.ref_id == last_ref)))


def _grouped(pieces: List[Piece], served: List[Set[int]], cap: int) -> Tuple[List[List[Piece]], List[Set[int]]]:
    """The groups of pieces, and the regions each group serves."""
    groups = group_pieces(pieces, cap)
    group_regions: List[Set[int]] = []
    at = 0
    for group in groups:
        group_regions.append(set().union(*served[at:at + len(group)]))
        at += len(group)
    return groups, group_regions


def _merged_intervals(regions: List[Region]) -> List[Interval]:
    """Sorted, disjoint intervals per reference; touching ones merge (same union of bases)."""
    by_ref: Dict[int, List[Tuple[int, int]]] = {}
    for region in regions:
        by_ref.setdefault(region.ref_id, []).append((region.beg, region.end))
    merged: List[Interval] = []
    for ref_id in sorted(by_ref):
        current: Optional[List[int]] = None
        for beg, end in sorted(by_ref[ref_id]):
            if current is not None and beg <= current[1]:
                current[1] = max(current[1], end)
                continue
            if current is not None:
                merged.append((ref_id, current[0], current[1]))
            current = [beg, end]
        merged.append((ref_id, current[0], current[1]))
    return merged


def describe_plan(partitions: Sequence[IntervalPartition]) -> Dict[str, object]:
    """A summary for logs and the bench: partition count, pieces, estimated bytes."""
    return {
        "partitions": len(partitions),
        "pieces": sum(len(p.pieces) for p in partitions),
        "tail_ranges": sum(isinstance(piece, TailRange) for p in partitions for piece in p.pieces),
        "estimated_bytes": sum(p.estimated_bytes for p in partitions),
    }


__all__ = ["IntervalPartition", "UNPLACED", "describe_plan", "plan_interval_partitions", "plan_with_index",
           "resolve_regions"]
