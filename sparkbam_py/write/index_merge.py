"""Merge the parts' index pieces into one BAI (SAMv1 §5.2) or CSI (CSIv1), and one ``.sbi``.

The pieces arrive already shifted to their final virtual offsets, in part order.  Chunks of
a bin are merged where one ends in the block the next starts in (htslib does the same when
it finishes an index); linear-index windows keep their first record; the pseudo-bin takes
the first record, the end of the last, and the summed counts of each reference.

Empty linear-index windows take the previous window's offset (leading ones the reference's
first record): a record overlapping a window also overlaps the previous one unless it starts
in it, so that offset is never past the first record overlapping the window.
"""
from __future__ import annotations

import struct
from typing import List, Sequence

import numpy as np

from ..bgzf.constants import EOF_MARKER
from ..bgzf.writer import compress_block
from ..index.bai import BAI_MAGIC
from ..index.bins import BAI_DEPTH, BAI_MIN_SHIFT, bin_count, depth_for_length, level_first_bin, pseudo_bin
from ..index.csi import CSI_MAGIC
from ..index.sbi import SbiIndex
from .index_part import PartIndex

_U64 = "<u8"


def index_scheme(reference_lengths: Sequence[int]):
    """``(min_shift, depth, kind)``: BAI's scheme, or CSI's when a reference passes 2^29."""
    longest = max(reference_lengths, default=0)
    if longest <= 1 << (BAI_MIN_SHIFT + 3 * BAI_DEPTH):
        return BAI_MIN_SHIFT, BAI_DEPTH, "bai"
    return BAI_MIN_SHIFT, depth_for_length(longest, BAI_MIN_SHIFT), "csi"


def _cat(parts: List[PartIndex], name: str) -> np.ndarray:
    arrays = [getattr(part, name) for part in parts]
    return np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)


class MergedIndex:
    """The whole file's index, per reference, from every part's pieces."""

    def __init__(self, parts: List[PartIndex], n_ref: int, min_shift: int, depth: int):
        self.n_ref, self.min_shift, self.depth = n_ref, min_shift, depth
        self.n_no_coor = sum(part.n_no_coor for part in parts)
        self._merge_chunks(_cat(parts, "chunk_ref"), _cat(parts, "chunk_bin"),
                           _cat(parts, "chunk_beg"), _cat(parts, "chunk_end"))
        self._merge_windows(_cat(parts, "window_ref"), _cat(parts, "window"), _cat(parts, "window_offset"))
        self._merge_meta(*(_cat(parts, name) for name in
                           ("meta_ref", "meta_beg", "meta_end", "meta_mapped", "meta_unmapped")))

    def _merge_chunks(self, ref, bins, beg, end) -> None:
        order = np.lexsort((beg, bins, ref))
        ref, bins, beg, end = ref[order], bins[order], beg[order], end[order]
        # A chunk joins the previous one of its bin when it starts in the block that one ends in.
        joins = np.zeros(len(ref), dtype=bool)
        joins[1:] = (ref[1:] == ref[:-1]) & (bins[1:] == bins[:-1]) & ((beg[1:] >> 16) <= (end[:-1] >> 16))
        first = np.flatnonzero(~joins)
        self.chunk_ref, self.chunk_bin, self.chunk_beg = ref[first], bins[first], beg[first]
        self.chunk_end = np.maximum.reduceat(end, first) if len(first) else end

    def _merge_windows(self, ref, window, offset) -> None:
        key = (ref << 40) | window
        unique, first = np.unique(key, return_index=True)  # parts ascend: first = earliest
        self.window_ref, self.window, self.window_offset = unique >> 40, unique & ((1 << 40) - 1), offset[first]

    def _merge_meta(self, ref, beg, end, mapped, unmapped) -> None:
        refs, inverse = np.unique(ref, return_inverse=True)
        self.meta_ref = refs
        self.meta_beg = np.full(len(refs), np.iinfo(np.int64).max)
        np.minimum.at(self.meta_beg, inverse, beg)
        self.meta_end = np.zeros(len(refs), np.int64)
        np.maximum.at(self.meta_end, inverse, end)
        self.meta_mapped = np.bincount(inverse, weights=mapped, minlength=len(refs)).astype(np.int64)
        self.meta_unmapped = np.bincount(inverse, weights=unmapped, minlength=len(refs)).astype(np.int64)

    def linear_index(self, ref: int, ref_beg: int) -> np.ndarray:
        """Reference ``ref``'s windows 0..last, empty ones filled as the module says."""
        # Windows are sorted by (reference, window): each reference's are one slice.
        lo, hi = np.searchsorted(self.window_ref, [ref, ref + 1])
        windows, offsets = self.window[lo:hi], self.window_offset[lo:hi]
        if not len(windows):
            return np.zeros(0, np.int64)
        dense = np.zeros(int(windows.max()) + 1, np.int64)
        present = np.zeros(len(dense), bool)
        dense[windows], present[windows] = offsets, True
        last_present = np.maximum.accumulate(np.where(present, np.arange(len(dense)), -1))
        return np.where(last_present >= 0, dense[np.maximum(last_present, 0)], ref_beg)

    def reference_blocks(self, with_loffset: bool) -> List[bytes]:
        blocks = []
        chunk_bounds = np.searchsorted(self.chunk_ref, np.arange(self.n_ref + 1))
        for ref in range(self.n_ref):
            blocks.append(self._reference_block(ref, slice(chunk_bounds[ref], chunk_bounds[ref + 1]), with_loffset))
        return blocks

    def _reference_block(self, ref: int, chunks: slice, with_loffset: bool) -> bytes:
        m = int(np.searchsorted(self.meta_ref, ref))  # meta_ref is sorted and unique
        if m == len(self.meta_ref) or self.meta_ref[m] != ref:
            return struct.pack("<i", 0) + (b"" if with_loffset else struct.pack("<i", 0))
        ref_beg = int(self.meta_beg[m])
        linear = self.linear_index(ref, ref_beg)
        bins, begs, ends = self.chunk_bin[chunks], self.chunk_beg[chunks], self.chunk_end[chunks]
        bin_ids, bin_starts = np.unique(bins, return_index=True)
        out = [struct.pack("<i", len(bin_ids) + 1), self._bins_bytes(bin_ids, bin_starts, begs, ends,
                                                                     linear, ref_beg, with_loffset)]
        # SAMv1 §5.2 pseudo-bin: (ref_beg, ref_end), then (n_mapped, n_unmapped).
        out.append(struct.pack("<I", pseudo_bin(self.depth)))
        if with_loffset:
            out.append(struct.pack("<Q", 0))
        out.append(struct.pack("<i4Q", 2, ref_beg, int(self.meta_end[m]),
                               int(self.meta_mapped[m]), int(self.meta_unmapped[m])))
        if not with_loffset:
            out.append(struct.pack("<i", len(linear)) + linear.astype(_U64).tobytes())
        return b"".join(out)

    def _bins_bytes(self, bin_ids: np.ndarray, bin_starts: np.ndarray, begs: np.ndarray, ends: np.ndarray,
                    linear: np.ndarray, ref_beg: int, with_loffset: bool) -> bytes:
        """Every bin of a reference laid out at once (a reference can have ~10^5 bins): per bin
        ``bin`` u32, (CSI) ``loffset`` u64, ``n_chunk`` i32, then its chunks' (beg, end) u64."""
        fields = [("bin", "<u4")] + ([("loffset", "<u8")] if with_loffset else []) + [("n_chunk", "<i4")]
        heads = np.zeros(len(bin_ids), dtype=np.dtype(fields))  # packed: no padding between fields
        heads["bin"] = bin_ids
        if with_loffset:
            heads["loffset"] = self._loffsets(bin_ids, linear, ref_beg)
        counts = np.diff(np.append(bin_starts, len(begs)))
        heads["n_chunk"] = counts
        head_size = heads.dtype.itemsize
        bin_offsets = np.concatenate([[0], np.cumsum(head_size + 16 * counts)])
        out = np.empty(int(bin_offsets[-1]), np.uint8)
        out[(bin_offsets[:-1, None] + np.arange(head_size)).ravel()] = heads.view(np.uint8)
        # chunk j (in the bins' order) lands after its bin's head and the bin's earlier chunks
        chunk_bin = np.repeat(np.arange(len(bin_ids)), counts)
        chunk_at = bin_offsets[:-1][chunk_bin] + head_size + 16 * (np.arange(len(begs)) - bin_starts[chunk_bin])
        pairs = np.stack([begs, ends], axis=1).astype(_U64)
        out[(chunk_at[:, None] + np.arange(16)).ravel()] = pairs.view(np.uint8).ravel()
        return out.tobytes()

    def _loffsets(self, bin_ids: np.ndarray, linear: np.ndarray, ref_beg: int) -> np.ndarray:
        """CSI's loffset of each bin: no record overlapping the bin starts before the linear
        index entry of the bin's first window (past the last window: the last entry)."""
        firsts = np.array([level_first_bin(level) for level in range(self.depth + 2)], np.int64)
        bin_ids = bin_ids.astype(np.int64)
        level = np.searchsorted(firsts, bin_ids, side="right") - 1
        shift = self.min_shift + 3 * (self.depth - level)
        window = ((bin_ids - firsts[level]) << shift) >> self.min_shift
        if not len(linear):
            return np.full(len(bin_ids), ref_beg, np.int64)
        return linear[np.minimum(window, len(linear) - 1)]

    def bai_bytes(self) -> bytes:
        """The BAI file (SAMv1 §5.2)."""
        assert (self.min_shift, self.depth) == (BAI_MIN_SHIFT, BAI_DEPTH), "BAI has one fixed scheme"
        body = b"".join(self.reference_blocks(with_loffset=False))
        return BAI_MAGIC + struct.pack("<i", self.n_ref) + body + struct.pack("<Q", self.n_no_coor)

    def csi_bytes(self, aux: bytes = b"") -> bytes:
        """The CSI file (CSIv1): its stream BGZF-compressed, EOF marker last; ``aux`` is the
        auxiliary data (a tabix header for text files, CSIv1 §2)."""
        assert bin_count(self.depth) < 1 << 32
        stream = (CSI_MAGIC + struct.pack("<iii", self.min_shift, self.depth, len(aux)) + aux
                  + struct.pack("<i", self.n_ref)
                  + b"".join(self.reference_blocks(with_loffset=True)) + struct.pack("<Q", self.n_no_coor))
        blocks = [compress_block(stream[i:i + 0xFF00]) for i in range(0, len(stream), 0xFF00)]
        return b"".join(blocks) + EOF_MARKER


def merge_sbi(relative_offsets: List[np.ndarray], part_starts: List[int], records: int,
              file_length: int, granularity: int) -> SbiIndex:
    """One ``.sbi`` from the parts' (each ends with its end offset, dropped but for the last).

    As htsjdk's ``SBIIndexMerger`` does it: every part's offsets, shifted; the spacing of
    ``granularity`` records restarts at each part.
    """
    pieces = []
    for k, (offsets, start) in enumerate(zip(relative_offsets, part_starts)):
        shifted = np.asarray(offsets, np.int64) + (np.int64(start) << 16)
        pieces.append(shifted if k == len(relative_offsets) - 1 else shifted[:-1])
    offsets = np.unique(np.concatenate(pieces)) if pieces else np.zeros(1, np.int64)
    return SbiIndex(file_length, records, granularity, offsets)
