"""A batch's depth events in one compiled pass over the records' bytes.

The numpy path (:func:`.blocks.find_blocks` then :func:`.partials.split_into_chunks`)
decodes fixed fields, gathers every CIGAR, expands ops to blocks and blocks to chunk
pieces, one array pass at a time.  This kernel does the same per record, straight from the
inflated bytes: the record checks of ``compute_record_spans``, ``check_op_codes`` and
``check_query_lengths``, the flag/MAPQ filter, the CIGAR walk (M, = and X counted; D with
``-J``; N never; bases past the contig's end dropped) and the cut at chunk boundaries, into
event arrays ``(contig << 32 | chunk, start key, end key)`` with the keys of
:mod:`.partials`.

Two kinds of record are left to the numpy path, which handles them as before: records
whose stored CIGAR is a long-CIGAR placeholder (SAMv1 §4.2.2, the real ops are in the CG
tag), and any record failing a check (the numpy path raises the typed error naming it).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import compiled
from ..bam.layout import (
    BLOCK_SIZE_BYTES,
    CIGAR_OP_MASK,
    CIGAR_OP_SHIFT,
    FIXED_FIELDS_SIZE,
    FLAG_UNMAPPED,
    OFF_FLAG,
    OFF_L_READ_NAME,
    OFF_L_SEQ,
    OFF_MAPQ,
    OFF_N_CIGAR_OP,
    OFF_NEXT_REF_ID,
    OFF_POS,
    OFF_REF_ID,
)

# Kernel status codes.
DONE, FULL, BAD = 0, 1, 2
# SAMv1 §4.2 CIGAR op codes: M=0 I=1 D=2 N=3 S=4 H=5 P=6 ==7 X=8.
_OP_D, _OP_S, _OP_EQ, _OP_X, _MAX_OP = 2, 4, 7, 8, 8
_CONSUMES_QUERY_MASK = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 7) | (1 << 8)  # M I S = X
_CONSUMES_REF_MASK = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 7) | (1 << 8)  # M D N = X


class TrackMap(NamedTuple):
    """How a read picks its tracks: ``all`` is 0; then strand; then read-group-derived columns."""

    strand: np.ndarray  # int64 [track if forward, track if reverse], or empty
    groups: np.ndarray  # int64 (n read group codes + 1, k): row -1 for no/unknown group
    codes: np.ndarray  # int64 per record: its read group code, or empty when k == 0


class DepthParams(NamedTuple):
    """The job's constants, as the kernel takes them."""

    contig_of_ref: np.ndarray  # int64: store contig of each of the file's ref ids
    lengths: np.ndarray  # int64 per store contig
    exclude_flags: int
    require_flags: int
    min_mapq: int
    count_deletions: bool
    chunk_length: int
    n_tracks: int


def _i32(data, at):
    # SAMv1 §4.2: little-endian integers.
    value = (np.int64(data[at]) | (np.int64(data[at + 1]) << 8) | (np.int64(data[at + 2]) << 16)
             | (np.int64(data[at + 3]) << 24))
    return value - (np.int64(1) << 32) if value >= (np.int64(1) << 31) else value


def _u32(data, at):
    return (np.int64(data[at]) | (np.int64(data[at + 1]) << 8) | (np.int64(data[at + 2]) << 16)
            | (np.int64(data[at + 3]) << 24))


def _u16(data, at):
    return np.int64(data[at]) | (np.int64(data[at + 1]) << 8)


def depth_events_kernel(data, offsets, first, n_refs, contig_of_ref, lengths, exclude, require, min_mapq,
                        count_deletions, chunk_length, n_tracks, strand, groups, codes,
                        out_key, out_start, out_end, deferred):
    """Events of records ``first..`` into the ``out_*`` arrays (numba-compiled).

    Returns ``(status, events written, next record, deferred count)``: status FULL means
    the arrays filled up before record ``next record`` (its events are not written), BAD
    that record ``next record`` fails a check.  ``deferred`` receives the indexes of
    placeholder records (long CIGARs) left to the numpy path.
    """
    n = 0
    n_deferred = 0
    capacity = len(out_key)
    end_of_data = len(data)
    track_columns = 1 + (1 if len(strand) else 0) + groups.shape[1]
    tracks = np.empty(track_columns, dtype=np.int64)
    previous_end = np.int64(0)
    for record in range(first, len(offsets)):
        at = offsets[record]
        if at < previous_end or at + FIXED_FIELDS_SIZE > end_of_data:
            return BAD, n, record, n_deferred
        end = at + BLOCK_SIZE_BYTES + _i32(data, at)
        previous_end = end
        ref_id = _i32(data, at + OFF_REF_ID)
        pos = _i32(data, at + OFF_POS)
        l_read_name = np.int64(data[at + OFF_L_READ_NAME])
        n_ops = _u16(data, at + OFF_N_CIGAR_OP)
        flag = _u16(data, at + OFF_FLAG)
        l_seq = _i32(data, at + OFF_L_SEQ)
        next_ref_id = _i32(data, at + OFF_NEXT_REF_ID)
        cigar_start = at + FIXED_FIELDS_SIZE + l_read_name
        tags_start = cigar_start + 4 * n_ops + (l_seq + 1) // 2 + l_seq
        if (end > end_of_data or l_read_name < 1 or l_seq < 0 or tags_start > end or data[cigar_start - 1] != 0
                or ref_id < -1 or ref_id >= n_refs or next_ref_id < -1 or next_ref_id >= n_refs):
            return BAD, n, record, n_deferred
        if n_ops > 0 and ref_id >= 0 and pos >= 0:
            first_op = _u32(data, cigar_start)
            if (first_op & CIGAR_OP_MASK) == _OP_S and (first_op >> CIGAR_OP_SHIFT) == l_seq:
                deferred[n_deferred] = record
                n_deferred += 1
                continue
        kept = not (ref_id < 0 or pos < 0 or (flag & exclude) != 0 or (flag & require) != require
                    or np.int64(data[at + OFF_MAPQ]) < min_mapq)
        contig = np.int64(0)
        contig_length = np.int64(0)
        if kept:
            tracks[0] = 0
            t = 1
            if len(strand):
                tracks[t] = strand[1] if (flag & 0x10) else strand[0]  # SAMv1 §1.4.2: 0x10 reverse strand
                t += 1
            for g in range(groups.shape[1]):
                tracks[t] = groups[codes[record], g]  # code -1 picks the last row, "none"
                t += 1
            contig = contig_of_ref[ref_id]
            contig_length = lengths[contig]
        # One pass over the ops: the op-code and query-length checks (every record, counted
        # or not) and, for kept reads, the events.
        written = n
        cursor = pos
        query = np.int64(0)
        for k in range(n_ops):
            op = _u32(data, cigar_start + 4 * k)
            code = op & CIGAR_OP_MASK
            length = op >> CIGAR_OP_SHIFT
            if code > _MAX_OP:
                return BAD, written, record, n_deferred
            if (_CONSUMES_QUERY_MASK >> code) & 1:
                query += length
            if not kept or not (_CONSUMES_REF_MASK >> code) & 1:
                continue
            counted = code == 0 or code == _OP_EQ or code == _OP_X or (code == _OP_D and count_deletions)
            start = cursor
            stop = min(cursor + length, contig_length)
            cursor += length
            if not counted:
                continue
            while start < stop:
                chunk = start // chunk_length
                chunk_start = chunk * chunk_length
                piece_stop = min(stop, chunk_start + chunk_length)
                if n + track_columns > capacity:
                    return FULL, written, record, n_deferred
                for j in range(track_columns):
                    out_key[n] = (contig << 32) | chunk
                    out_start[n] = (start - chunk_start) * n_tracks + tracks[j]
                    out_end[n] = (piece_stop - chunk_start) * n_tracks + tracks[j]
                    n += 1
                start = piece_stop
        if n_ops > 0 and l_seq > 0 and (flag & FLAG_UNMAPPED) == 0 and query != l_seq:
            return BAD, written, record, n_deferred
    return DONE, n, len(offsets), n_deferred


class BatchEvents(NamedTuple):
    keys: np.ndarray  # int64 contig << 32 | chunk
    starts: np.ndarray  # uint32
    ends: np.ndarray  # uint32
    deferred: np.ndarray  # int64 record indexes left to the numpy path
    bad: bool  # a record failed a check: the whole batch goes to the numpy path


def batch_events(kernel, data: np.ndarray, offsets: np.ndarray, n_refs: int, params: DepthParams,
                 track_map: TrackMap) -> BatchEvents:
    """Run ``kernel`` (:func:`depth_events_kernel`, compiled) over a batch, growing its output."""
    keys, starts, ends = [], [], []
    deferred = np.empty(len(offsets), dtype=np.int64)
    deferred_parts = []
    capacity = 2 * len(offsets) * (1 + int(len(track_map.strand) > 0) + track_map.groups.shape[1]) + 64
    record = 0
    while True:
        out_key = np.empty(capacity, dtype=np.int64)
        out_start = np.empty(capacity, dtype=np.uint32)
        out_end = np.empty(capacity, dtype=np.uint32)
        status, n, record, n_deferred = kernel(
            data, offsets, record, n_refs, params.contig_of_ref, params.lengths, params.exclude_flags,
            params.require_flags, params.min_mapq, params.count_deletions, params.chunk_length, params.n_tracks,
            track_map.strand, track_map.groups, track_map.codes, out_key, out_start, out_end, deferred)
        keys.append(out_key[:n])
        starts.append(out_start[:n])
        ends.append(out_end[:n])
        deferred_parts.append(deferred[:n_deferred].copy())
        if status != FULL:
            break
        capacity *= 2
    return BatchEvents(np.concatenate(keys), np.concatenate(starts), np.concatenate(ends),
                       np.concatenate(deferred_parts), status == BAD)


def compiled_depth_kernel():
    """The compiled kernel, or None on the Python path (``SPARKBAM_KERNELS=python``)."""
    readers = {name: compiled(function) for name, function in _READERS.items()}
    if any(reader is None for reader in readers.values()):
        return None
    # numba resolves the kernel's helpers among its module's globals when it compiles it,
    # so they must be compiled ones by then (they stay callable from Python too).
    globals().update(readers)
    return compiled(depth_events_kernel)


_READERS = {"_i32": _i32, "_u32": _u32, "_u16": _u16}
