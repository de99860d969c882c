"""hadoop-bam's record-start heuristic (``BAMSplitGuesser``), ported faithfully: the baseline.

What spark-bam's "seqdoop" checker ran (hammerlab Hadoop-BAM 7.9.0 ``BAMPosGuesser``), over
htsjdk's BGZF stream limited to ``MAX_BYTES_READ`` compressed bytes from the candidate's
block. Nothing but the comparison commands use it. Its quirks are kept, because they are
what we measure:

1. ``refID == n_ref`` passes (the bound is ``> n_ref``), for the read and its mate.
2. A name length of 1 (the NUL alone) passes; the name's characters are never looked at.
3. The candidate's own CIGAR is not checked; loci are never compared with contig lengths.
4. The length test runs in 32-bit arithmetic: a huge ``l_seq`` wraps around into a pass.
5. Following records are decoded only until the block address has changed 3 times, and
   only ``l_read_name + 4*n_cigar_op`` bytes of each are read; the rest is skipped. If the
   skip runs past the window (or the file) after one record decoded, the candidate is
   ACCEPTED: the source of most false positives (a garbage ``block_size`` of ~1e9 just
   "runs out of data"). A record claiming fewer bytes than its name and CIGAR take is read
   past its end, and the next one read from there.
6. A read that hits the window's end outright (not inside a skip) rejects the candidate,
   so long reads spanning the window are false negatives.
7. An empty BGZF block (the EOF marker, or one mid-file) reads as end of data: a record
   length that cannot be read there ends the walk, which is a pass after one decoded record
   (and, mid-file, even a later field cut there passes). A position named by an empty block
   is an invalid file pointer to htsjdk: rejected.
8. Positions are not tested for "the block address" beyond the named block: a record
   that starts exactly at a block's end is named by the next block, as htsjdk names it.
"""
from __future__ import annotations

import bisect
import struct
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from sparkbam_py.bam.layout import (
    CIGAR_OP_MASK, FIXED_FIELDS_SIZE, MAX_CIGAR_OP_CODE, OFF_L_READ_NAME, OFF_L_SEQ, OFF_N_CIGAR_OP,
    OFF_NEXT_POS, OFF_NEXT_REF_ID, OFF_POS, OFF_REF_ID,
)

from .eager import EagerCalls
from .fields import CIGAR_OP_BYTES, RunView

# hadoop-bam buffers BLOCKS_NEEDED_FOR_GUESS maximal blocks plus one less a byte from a
# split's start: 262,139 bytes (spark-bam's notes and our issue say 262,141, a slip in the sum).
MAX_BYTES_READ = 3 * 0xFFFF + 0xFFFE
BLOCKS_NEEDED_FOR_GUESS = 3
# readLazyRecord's "shortest record": the 8 int32s after block_size.
FIXED_BLOCK_SIZE = 8 * 4

# Outcomes of reading one record in the walk.
_OK, _NULL, _FAIL, _EOF_EXCEPTION, _NEED = range(5)
_INT32 = struct.Struct("<i")
_VALID_OP_BYTES = bytes(v for v in range(256) if (v & CIGAR_OP_MASK) <= MAX_CIGAR_OP_CODE)


class _Window(NamedTuple):
    """What htsjdk can read from a candidate's block: data up to ``end`` (an index in the
    run); then either a hard stop (the stream throws), or an empty block (reads -1)."""

    end: int
    empty_block_stop: bool  # False: the truncated stream (or the file) stops there
    at_limit: bool  # the stream's position equals its limit after hitting the stop
    need_more: bool  # the run ends before the window does: read further


class HadoopBamChecker:
    """``calls_range`` / ``calls_at`` / ``first_call``, like the eager checker's."""

    name = "hadoop_bam"

    def __init__(self, n_ref: int, file_size: int):
        self.n_ref = n_ref
        self.file_size = file_size

    def calls_range(self, view: RunView, lo: int, hi: int) -> EagerCalls:
        # The reference-id and locus tests through views of every position first: they
        # reject most bytes before anything is gathered (positions without 36 bytes after
        # them go the general way: they may need more data).
        with_fixed = min(max(view.n - FIXED_FIELDS_SIZE + 1, lo), hi)
        ref_id = view.int32_slice(lo + OFF_REF_ID, with_fixed + OFF_REF_ID)
        pos = view.int32_slice(lo + OFF_POS, with_fixed + OFF_POS)
        plausible = ((ref_id.view(np.uint32) + np.uint32(1)) <= np.uint32(self.n_ref + 1)) & (pos >= -1)
        candidates = np.concatenate([lo + np.flatnonzero(plausible), np.arange(with_fixed, hi, dtype=np.int64)])
        calls = self.calls_at(view, candidates)
        accepted = np.zeros(hi - lo, dtype=bool)
        need_more = np.zeros(hi - lo, dtype=bool)
        accepted[candidates - lo], need_more[candidates - lo] = calls.accepted, calls.need_more
        return EagerCalls(accepted, need_more)

    def calls_at(self, view: RunView, indices: np.ndarray) -> EagerCalls:
        indices = np.asarray(indices, dtype=np.int64)
        walker = _Walker(view, self.file_size)
        start_ok, need_more = self._record_start_checks(view, walker, indices)
        accepted = np.zeros(len(indices), dtype=bool)
        for row in np.flatnonzero(start_ok):
            verdict = walker.succeeding_records(int(indices[row]))
            if verdict is None:
                need_more[row] = True
            else:
                accepted[row] = verdict
        return EagerCalls(accepted, need_more)

    def first_call(self, view: RunView, lo: int, hi: int) -> Tuple[Optional[int], bool]:
        calls = self.calls_range(view, lo, hi)
        decided = np.flatnonzero(calls.accepted | calls.need_more)
        if not len(decided):
            return None, False
        return lo + int(decided[0]), bool(calls.need_more[decided[0]])

    def _record_start_checks(self, view: RunView, walker: "_Walker", at: np.ndarray):
        """``checkRecordStart`` for every candidate at once; and which ones ran out of run."""
        blocks = walker.named_blocks(at)
        ends = np.array([w.end for w in walker.windows], dtype=np.int64)[blocks]
        more = np.array([w.need_more for w in walker.windows], dtype=bool)[blocks]
        readable = ~walker.empty[blocks]
        need_more = np.zeros(len(at), dtype=bool)

        has_fixed = readable & (at + FIXED_FIELDS_SIZE <= ends)
        need_more |= readable & ~has_fixed & more
        ok = has_fixed.copy()
        rows = np.flatnonzero(ok)
        p = at[rows]
        i32 = view.int32_at
        ref_id, pos = i32(p + OFF_REF_ID), i32(p + OFF_POS)
        next_ref_id, next_pos = i32(p + OFF_NEXT_REF_ID), i32(p + OFF_NEXT_POS)
        name_length = view.uint8_at(p + OFF_L_READ_NAME).astype(np.int64)
        # Quirk 1: "id > n_ref" rejects, so id == n_ref passes.
        good = (ref_id >= -1) & (ref_id <= self.n_ref) & (pos >= -1)
        good &= (next_ref_id >= -1) & (next_ref_id <= self.n_ref) & (next_pos >= -1)
        good &= name_length >= 1
        terminator = p + FIXED_FIELDS_SIZE + name_length - 1
        in_window = terminator < ends[rows]
        need_more[rows[good & ~in_window & more[rows]]] = True
        good &= in_window
        good &= view.data[np.minimum(terminator, view.n - 1)] == 0
        good &= i32(p) >= _length_floor(name_length, view.uint16_at(p + OFF_N_CIGAR_OP), i32(p + OFF_L_SEQ))
        ok[rows] = good
        return ok, need_more


def _wrap32(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64).astype(np.uint32).view(np.int32).astype(np.int64)


def _length_floor(name_length, n_cigar, l_seq) -> np.ndarray:
    """``4*8 + l_read_name + 4*n_cigar + l_seq + (l_seq+1)/2`` in Java int arithmetic
    (quirk 4: it wraps around; ``/`` truncates toward zero)."""
    l_seq = l_seq.astype(np.int64)
    plus_one = _wrap32(l_seq + 1)
    half = np.where(plus_one >= 0, plus_one // 2, -((-plus_one) // 2))
    seq_length = _wrap32(l_seq + half)
    return _wrap32(FIXED_BLOCK_SIZE + name_length + 4 * n_cigar.astype(np.int64) + seq_length)


class _Walker:
    """``checkSucceedingRecords`` for single candidates, on one run; walks from the same
    window that reach the same record with the same block count share their verdict."""

    def __init__(self, view: RunView, file_size: int):
        run = view.run
        self.view = view
        self.raw = view.raw
        self.run = run
        self.block_starts = run.block_starts
        self.data_starts = run.data_starts
        blocks = len(run.block_starts) - 1
        self.empty = np.append(self.data_starts[1:] == self.data_starts[:-1], True)
        self.windows: List[_Window] = [self._window(k, file_size) for k in range(blocks)] + [
            _Window(view.n, False, True, not run.at_end)
        ]
        self._memo: Dict[Tuple[int, int, int], Optional[bool]] = {}
        self._data_starts_list = self.data_starts.tolist()

    def _window(self, k: int, file_size: int) -> _Window:
        limit = min(file_size, int(self.block_starts[k]) + MAX_BYTES_READ)
        last = len(self.block_starts) - 1
        j = k
        while j < last:
            block_end = int(self.block_starts[j + 1])
            if block_end > limit:
                return _Window(int(self.data_starts[j]), False, True, False)
            if self.empty[j]:
                return _Window(int(self.data_starts[j]), True, block_end == limit, False)
            j += 1
        return _Window(int(self.data_starts[last]), False, True, not self.run.at_end)

    def named_blocks(self, at: np.ndarray) -> np.ndarray:
        """The block htsjdk names each index by (the first block whose data starts there)."""
        k = np.searchsorted(self.data_starts, at, side="left")
        exact = self.data_starts[np.minimum(k, len(self.data_starts) - 1)] == at
        return np.where(exact, k, k - 1)

    def _named_block(self, index: int) -> int:
        k = bisect.bisect_left(self._data_starts_list, index)
        return k if k < len(self._data_starts_list) and self._data_starts_list[k] == index else k - 1

    def succeeding_records(self, start: int) -> Optional[bool]:
        """True / False, or None when the run ends before the walk does."""
        block = self._named_block(start)
        window = self.windows[block]
        outcome, position = self._read_record(start, window)
        if outcome != _OK:
            return self._verdict(outcome, window, decoded_any=False)
        changes, previous = 0, block
        visited = []
        verdict: Optional[bool] = True
        while True:
            current = self._named_block(position)
            if current != previous:
                previous, changes = current, changes + 1
            if changes >= BLOCKS_NEEDED_FOR_GUESS:
                break
            key = (block, position, changes)
            if key in self._memo:
                verdict = self._memo[key]
                break
            visited.append(key)
            outcome, position = self._read_record(position, window)
            if outcome != _OK:
                verdict = self._verdict(outcome, window, decoded_any=True)
                break
        for key in visited:
            self._memo[key] = verdict
        return verdict

    @staticmethod
    def _verdict(outcome: int, window: _Window, decoded_any: bool) -> Optional[bool]:
        if outcome == _NEED:
            return None
        if outcome == _FAIL:
            return False
        if outcome == _NULL:  # no record to read: fine once something decoded
            return decoded_any
        # RuntimeEOFException: rejected only if nothing decoded and the stream is at its limit.
        return decoded_any or not window.at_limit

    def _read_record(self, position: int, window: _Window) -> Tuple[int, int]:
        """``readLazyRecord`` at ``position``: the outcome and where the stream is after it."""
        end, raw = window.end, self.raw
        if position + 4 > end:
            return self._cut(window, _FAIL if not window.empty_block_stop else _NULL), position
        record_length = _INT32.unpack_from(raw, position)[0]
        if record_length < FIXED_BLOCK_SIZE:
            return _FAIL, position
        if position + FIXED_FIELDS_SIZE > end:
            return self._cut(window, _EOF_EXCEPTION if window.empty_block_stop else _FAIL), position
        name_length = raw[position + OFF_L_READ_NAME]
        n_cigar = _INT32.unpack_from(raw, position + OFF_N_CIGAR_OP)[0] & 0xFFFF
        cigar_start = position + FIXED_FIELDS_SIZE + name_length
        read_end = cigar_start + CIGAR_OP_BYTES * n_cigar
        if read_end > end:
            return self._cut(window, _EOF_EXCEPTION if window.empty_block_stop else _FAIL), position
        # Quirk 5: the rest is skipped (never backwards), and only then the CIGAR decoded.
        record_end = max(read_end, position + 4 + record_length)
        if record_end > end:
            return self._cut(window, _EOF_EXCEPTION), position
        if raw[cigar_start:read_end:CIGAR_OP_BYTES].translate(None, _VALID_OP_BYTES):
            return _FAIL, position
        return _OK, record_end

    @staticmethod
    def _cut(window: _Window, outcome: int) -> int:
        """Data ran out: at the run's end that only means "read further"."""
        return _NEED if window.need_more else outcome
