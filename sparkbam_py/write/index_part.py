"""One part's share of the BAI/CSI, gathered while its records are written (no second pass).

Positions are first kept as offsets in the part's *inflated* stream ("u-offsets"): a block's
compressed start is only known once it is deflated.  :meth:`PartIndexBuilder.finish` turns
them into virtual offsets relative to the part (its first block at compressed offset 0);
the commit shifts those by the part's final start, which is exact because every part
starts on a block boundary: block offsets move, in-block offsets do not (SAMv1 §4.1.1).

What is kept is already reduced per batch, so memory grows with bins and windows, not reads:

* chunks: one per run of consecutive records in the same (reference, bin) (SAMv1 §5.2);
* linear index: the first record overlapping each 16 kbp window (SAMv1 §5.2), from which
  CSI's per-bin ``loffset`` is derived too;
* per reference: first record, end of the last, mapped and unmapped counts (the pseudo-bin);
* ``n_no_coor``: records without a reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from ..index.bins import BAI_DEPTH, BAI_MIN_SHIFT
from .encode import EncodedRecords, reg2bin_array

# Sort keys: (reference id as unsigned, so -1 sorts last as samtools puts it; position).
_NO_REFERENCE_KEY = np.int64(1) << 31


@dataclass
class PartIndex:
    """A part's index pieces, positions as virtual offsets relative to the part."""

    min_shift: int
    depth: int
    chunk_ref: np.ndarray
    chunk_bin: np.ndarray
    chunk_beg: np.ndarray
    chunk_end: np.ndarray
    window_ref: np.ndarray
    window: np.ndarray
    window_offset: np.ndarray
    meta_ref: np.ndarray
    meta_beg: np.ndarray
    meta_end: np.ndarray
    meta_mapped: np.ndarray
    meta_unmapped: np.ndarray
    n_no_coor: int

    def shifted(self, block_shift: int) -> "PartIndex":
        """The same pieces with every virtual offset moved by ``block_shift`` compressed bytes."""
        delta = np.int64(block_shift) << 16
        return PartIndex(self.min_shift, self.depth, self.chunk_ref, self.chunk_bin,
                         self.chunk_beg + delta, self.chunk_end + delta, self.window_ref, self.window,
                         self.window_offset + delta, self.meta_ref, self.meta_beg + delta,
                         self.meta_end + delta, self.meta_mapped, self.meta_unmapped, self.n_no_coor)


def sort_keys(ref_id: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """One int64 per record ordering as coordinate-sorted BAM does (unplaced last)."""
    ref = np.where(ref_id < 0, _NO_REFERENCE_KEY, ref_id.astype(np.int64))
    return (ref << 31) + np.maximum(pos, -1) + 1


@dataclass
class PartIndexBuilder:
    """Collects index pieces batch by batch; ``sorted`` turns False at the first disorder."""

    min_shift: int = BAI_MIN_SHIFT
    depth: int = BAI_DEPTH
    sorted: bool = True
    first_key: Optional[int] = None
    last_key: Optional[int] = None
    _runs: List[Tuple[np.ndarray, ...]] = field(default_factory=list)
    _windows: List[Tuple[np.ndarray, ...]] = field(default_factory=list)
    _meta: List[Tuple[np.ndarray, ...]] = field(default_factory=list)
    n_no_coor: int = 0

    def track_order(self, records: EncodedRecords) -> None:
        """Follow the records' order only (``sorted``, ``first_key``, ``last_key``): no index."""
        if len(records):
            self._check_order(sort_keys(records.ref_id, records.pos))

    def add(self, records: EncodedRecords, starts_u: np.ndarray, ends_u: np.ndarray) -> None:
        """Add a batch whose record i spans ``[starts_u[i], ends_u[i])`` of the inflated part."""
        if len(records) == 0:
            return
        self._check_order(sort_keys(records.ref_id, records.pos))
        if not self.sorted:
            return
        placed = records.ref_id >= 0
        self.n_no_coor += int(np.count_nonzero(~placed))
        if not placed.any():
            return
        ref = records.ref_id[placed].astype(np.int64)
        beg = np.maximum(records.pos[placed], 0)
        end = np.maximum(records.end[placed], beg + 1)
        if np.any(end > 1 << (self.min_shift + 3 * self.depth)):
            # A read past the scheme's reach (2^29 for BAI; the header's lengths chose the
            # scheme, and a read lies beyond its reference): no valid index exists.
            self.sorted = False
            return
        starts, ends = starts_u[placed], ends_u[placed]
        self._add_runs(ref, reg2bin_array(beg, end, self.min_shift, self.depth), starts, ends)
        self._add_windows(ref, beg, end, starts)
        self._add_meta(ref, records.unmapped[placed], starts, ends)

    def _check_order(self, keys: np.ndarray) -> None:
        if self.first_key is None:
            self.first_key = int(keys[0])
        if (self.last_key is not None and keys[0] < self.last_key) or np.any(keys[1:] < keys[:-1]):
            self.sorted = False
        self.last_key = int(keys[-1])

    def _add_runs(self, ref, bins, starts, ends) -> None:
        key = (ref << 32) | bins
        new_run = np.concatenate([[True], key[1:] != key[:-1]])
        first = np.flatnonzero(new_run)
        last = np.append(first[1:], len(key)) - 1
        self._runs.append((ref[first], bins[first], starts[first], ends[last]))

    def _add_windows(self, ref, beg, end, starts) -> None:
        first_window = beg >> self.min_shift
        spans = ((end - 1) >> self.min_shift) - first_window + 1
        owner = np.repeat(np.arange(len(beg)), spans)
        window = first_window[owner] + (np.arange(len(owner)) - np.repeat(np.cumsum(spans) - spans, spans))
        key = (ref[owner] << 40) | window
        # Records ascend, so a window's first occurrence is its first overlapping record.
        unique, first = np.unique(key, return_index=True)
        self._windows.append((unique >> 40, unique & ((1 << 40) - 1), starts[owner[first]]))

    def _add_meta(self, ref, unmapped, starts, ends) -> None:
        refs, first = np.unique(ref, return_index=True)
        last = np.append(first[1:], len(ref)) - 1
        unmapped_counts = np.add.reduceat(unmapped.astype(np.int64), first)
        counts = np.diff(np.append(first, len(ref)))
        self._meta.append((refs, starts[first], ends[last], counts - unmapped_counts, unmapped_counts))

    def finish(self, to_virtual) -> Optional[PartIndex]:
        """The pieces with u-offsets mapped by ``to_virtual``; None when the part is unsorted."""
        if not self.sorted:
            return None
        runs = _stack(self._runs, 4)
        windows = _stack(self._windows, 3)
        meta = _stack(self._meta, 5)
        return PartIndex(self.min_shift, self.depth, runs[0], runs[1], to_virtual(runs[2]), to_virtual(runs[3]),
                         windows[0], windows[1], to_virtual(windows[2]),
                         meta[0], to_virtual(meta[1]), to_virtual(meta[2]), meta[3], meta[4], self.n_no_coor)


def _stack(pieces: List[Tuple[np.ndarray, ...]], width: int) -> List[np.ndarray]:
    if not pieces:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    return [np.concatenate([piece[k] for piece in pieces]).astype(np.int64) for k in range(width)]
