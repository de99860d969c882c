"""From a parsed BAI/CSI index and reference intervals to the BAM byte ranges to read.

The rule is htslib's ``hts_itr_query`` (SAMv1 §5.1.3 describes the idea):

1. every bin in ``reg2bins(beg, end)`` may hold overlapping records; take their chunks;
2. ``min_off``: no overlapping record starts before it (the linear index / bin ``loffset``);
   drop chunks ending at or before it, and start the rest no earlier than it;
3. ``max_off``: the first record of the nearest bin right of ``end``; no overlapping record
   starts at or after it, so chunks are cut there;
4. sort, and merge chunks that overlap, touch, or meet inside one BGZF block (that block is
   inflated anyway, and the reader drops the non-overlapping records in the gap).

The chunks are a superset: a reader must still keep only records that overlap the interval.
Both offsets are virtual offsets of record starts, so clamping to them keeps chunks seekable.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

from ..pos import Pos
from .bins import (
    BAI_DEPTH,
    BAI_MIN_SHIFT,
    bin_count,
    bin_first_window,
    is_first_child,
    level_first_bin,
    parent_bin,
    reg2bins,
)
from .model import BamIndex, Chunk, ReferenceIndex  # noqa: F401 - Chunk re-exported

# No overlapping record can start at or after this (htslib's "(uint64_t)-1").
_NO_LIMIT = Pos.from_virtual((1 << 64) - 1)
_NO_MINIMUM = Pos(0, 0)


def merge_chunks(chunks: Iterable[Chunk]) -> List[Chunk]:
    """Sorted, disjoint chunks covering the union of ``chunks`` (empty ones dropped).

    Overlapping and touching chunks merge, as in htsjdk ``optimizeChunkList``; so do chunks
    where one ends in the BGZF block the next starts in, as in htslib (bridging that gap costs
    no I/O and saves a seek).  Use it to combine the chunks of many regions.
    """
    merged: List[Chunk] = []
    for chunk in sorted(c for c in chunks if c.start < c.end):
        if merged and _joins(merged[-1], chunk):
            last = merged[-1]
            if chunk.end > last.end:
                merged[-1] = Chunk(last.start, chunk.end)
        else:
            merged.append(chunk)
    return merged


def _joins(left: Chunk, right: Chunk) -> bool:
    return right.start <= left.end or right.start.block_pos == left.end.block_pos


def chunks_for_region(index: BamIndex, ref_id: int, beg: int, end: int) -> List[Chunk]:
    """The merged chunks that hold every record of ``ref_id`` overlapping ``[beg, end)``.

    0-based half-open coordinates.  A reference the index does not cover, or an empty
    interval, gives no chunks.  For the unplaced unmapped reads ("*"), see
    :func:`unplaced_unmapped_start`.
    """
    if ref_id < 0:
        raise ValueError(f"ref_id must be >= 0, got {ref_id}; use unplaced_unmapped_start for '*'")
    if ref_id >= len(index.references):
        return []
    return chunks_for_reference(index.references[ref_id], beg, end, index.min_shift, index.depth)


def chunks_for_reference(
    ref: ReferenceIndex, beg: int, end: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH
) -> List[Chunk]:
    """:func:`chunks_for_region` on one reference's index alone (e.g. fetched through a
    ``.bai.json`` range); ``min_shift``/``depth`` are the index's scheme (BAI by default)."""
    beg = max(beg, 0)
    if end <= beg or not ref.bins:
        return []
    low = min_offset(ref, beg, min_shift, depth)
    high = max_offset(ref, end, min_shift, depth)
    found = []
    for bin_id in reg2bins(beg, end, min_shift, depth):
        bin_ = ref.bins.get(bin_id)
        if bin_ is None:
            continue
        for chunk in bin_.chunks:
            if chunk.end > low and chunk.start < high:
                found.append(Chunk(max(chunk.start, low), min(chunk.end, high)))
    return merge_chunks(found)


def chunks_for_regions(
    index: BamIndex, regions: Iterable[Tuple[int, int, int]]
) -> List[Chunk]:
    """The merged chunks of many ``(ref_id, beg, end)`` regions at once."""
    every: List[Chunk] = []
    for ref_id, beg, end in regions:
        every.extend(chunks_for_region(index, ref_id, beg, end))
    return merge_chunks(every)


def min_offset(
    ref: ReferenceIndex, beg: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH
) -> Pos:
    """No record overlapping ``[beg, ...)`` starts before this virtual offset (htslib rule).

    Start from the ``loffset`` of the lowest existing bin at or left of ``beg`` (walking left
    through siblings, then up).  With a linear index (BAI), tighten it to the entry of
    ``beg``'s window (16 kbp, SAMv1 §5.2).  Placed unmapped reads are not in the linear index (htslib
    leaves them out), so when the reference has any, step back to the previous smaller
    entry, never below the bin's ``loffset``.
    """
    window = beg >> min_shift
    bin_id = _lowest_bin_at_or_left_of(ref, level_first_bin(depth) + window)
    bin_floor = _bin_loffset(ref, bin_id, min_shift, depth) if bin_id is not None else None
    low = bin_floor if bin_floor is not None else _NO_MINIMUM
    linear = ref.filled_linear_index
    if not linear or window >= len(linear):
        return low
    low = max(low, Pos.from_virtual(linear[window]))
    if not _may_have_placed_unmapped(ref):
        return low
    earlier = _previous_smaller(linear, window, low.virtual)
    if earlier is not None:
        low = Pos.from_virtual(earlier)
    if bin_floor is not None and (earlier is None or low < bin_floor):
        low = bin_floor
    return low


def max_offset(
    ref: ReferenceIndex, end: int, min_shift: int = BAI_MIN_SHIFT, depth: int = BAI_DEPTH
) -> Pos:
    """No record overlapping ``[..., end)`` starts at or after this virtual offset.

    The first chunk start of the nearest existing bin right of ``end``: every record in it
    begins past ``end``, and so does every record after it in a sorted file.
    """
    bin_id = level_first_bin(depth) + ((end - 1) >> min_shift) + 1
    if bin_id >= bin_count(depth):
        return _NO_LIMIT
    while True:
        while is_first_child(bin_id):  # off the right of its parent: go up
            bin_id = parent_bin(bin_id)
        if bin_id == 0:
            return _NO_LIMIT
        bin_ = ref.bins.get(bin_id)
        if bin_ is not None and bin_.chunks:
            return min(chunk.start for chunk in bin_.chunks)
        bin_id += 1


def _lowest_bin_at_or_left_of(ref: ReferenceIndex, bin_id: int) -> Optional[int]:
    """The bottom-up search of htslib: this bin, its left siblings, then its parent's."""
    while bin_id > 0:
        if bin_id in ref.bins:
            return bin_id
        first_sibling = (parent_bin(bin_id) << 3) + 1
        bin_id = bin_id - 1 if bin_id > first_sibling else parent_bin(bin_id)
    return 0 if 0 in ref.bins else None


def _bin_loffset(ref: ReferenceIndex, bin_id: int, min_shift: int, depth: int) -> Pos:
    """CSI stores a bin's ``loffset`` (CSIv1); for BAI htslib takes the linear-index entry
    of the bin's first window, or 0 when the linear index stops short of it."""
    stored = ref.bins[bin_id].loffset
    if stored is not None:
        return stored
    window = bin_first_window(bin_id, min_shift, depth)
    linear = ref.filled_linear_index
    return Pos.from_virtual(linear[window]) if window < len(linear) else _NO_MINIMUM


def _may_have_placed_unmapped(ref: ReferenceIndex) -> bool:
    """The pseudo-bin counts them; without one, assume there may be some (as htslib does)."""
    return ref.metadata is None or ref.metadata.n_unmapped > 0


def _previous_smaller(linear: Sequence[int], window: int, value: int) -> Optional[int]:
    for earlier in range(window - 1, -1, -1):
        if linear[earlier] < value:
            return linear[earlier]
    return None


def unplaced_unmapped_start(index: BamIndex) -> Optional[Pos]:
    """Where the unplaced unmapped reads ("*", refID -1) begin: just after the last placed read.

    htslib's rule (``hts_itr_off`` for ``HTS_IDX_NOCOOR``): the largest pseudo-bin
    ``ref_end`` over all references, which is the offset right after each reference's last
    record.  A reference without a pseudo-bin contributes its largest chunk end instead, the
    same offset when both exist.  ``None`` when the index places no reads at all: the tail
    then starts at the first record, right after the BAM header.

    Reading from here to EOF yields only refID -1 records in a coordinate-sorted BAM; there
    are ``index.n_no_coor`` of them when that optional field is present.
    """
    ends = [_last_record_end(ref) for ref in index.references]
    placed = [end for end in ends if end is not None]
    return max(placed) if placed else None


def _last_record_end(ref: ReferenceIndex) -> Optional[Pos]:
    if ref.metadata is not None:
        return ref.metadata.ref_end
    chunk_ends = [chunk.end for bin_ in ref.bins.values() for chunk in bin_.chunks]
    return max(chunk_ends) if chunk_ends else None
