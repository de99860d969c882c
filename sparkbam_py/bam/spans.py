"""Where each variable-length field of each record lies, for a whole batch at once.

SAMv1 §4.2: after the 36 fixed bytes come read_name (l_read_name bytes, NUL included),
cigar (n_cigar_op uint32), seq ((l_seq + 1) / 2 bytes, two bases per byte), qual (l_seq
bytes) and the auxiliary data up to the end of the record (block_size + 4 bytes from its
start).  Every later step reads fields through these positions, so they are checked here,
once: a record whose lengths do not fit is reported instead of read out of bounds.

The compiled kernel (see :mod:`.kernels`) does it all in one pass per record; the numpy path
in one whole-batch operation per step.  Both make the checks in the same order, so a batch
breaking several reports the same check at the same record.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import compiled
from .layout import (
    BLOCK_SIZE_BYTES,
    CIGAR_OP_MASK,
    CIGAR_OP_SHIFT,
    CIGAR_OPS,
    FIXED_FIELDS_DTYPE,
    FIXED_FIELDS_SIZE,
    gather_fixed_fields,
)
from .littleendian import at_every_byte

# SAMv1 §4.2: a CIGAR op is one uint32.
CIGAR_OP_BYTES = 4
_SOFT_CLIP = CIGAR_OPS.index("S")


class MalformedRecord(Exception):
    """A record of the batch is structurally impossible; the decoder adds path and position."""

    def __init__(self, message: str, record: int):
        super().__init__(message)
        self.message = message
        self.record = record


def require(ok: np.ndarray, records: np.ndarray, message: str) -> None:
    """Raise :class:`MalformedRecord` for the first record where ``ok`` is False."""
    if not bool(np.all(ok)):
        first = int(np.flatnonzero(~np.asarray(ok, dtype=bool))[0])
        raise MalformedRecord(message, int(records[first]))


@dataclass(frozen=True)
class RecordSpans:
    """Fixed fields and field start positions (int64 indexes into ``data``) of n records."""

    fixed: np.ndarray  # FIXED_FIELDS_DTYPE
    name_start: np.ndarray
    cigar_start: np.ndarray
    seq_start: np.ndarray
    qual_start: np.ndarray
    tags_start: np.ndarray
    end: np.ndarray
    l_seq: np.ndarray  # int64 copies of the fixed fields that index arithmetic uses
    n_cigar_op: np.ndarray
    # Placed records whose stored CIGAR starts by soft-clipping the whole read: only they may
    # hold a long CIGAR's placeholder (SAMv1 §4.2.2), so only their tags are searched for CG.
    cigar_placeholder: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.fixed)


def compute_record_spans(data: np.ndarray, offsets: np.ndarray, n_references: int) -> RecordSpans:
    """Fixed fields and field positions of the records starting at ``offsets``; validated."""
    offsets = np.asarray(offsets, dtype=np.int64)
    kernel = compiled(spans_kernel)
    if kernel is None:
        return _spans_vectorised(data, offsets, n_references)
    n = len(offsets)
    fixed_bytes = np.empty(n * FIXED_FIELDS_SIZE, dtype=np.uint8)
    positions = np.empty((_POSITIONS, n), dtype=np.int64)
    placeholder = np.zeros(n, dtype=np.bool_)
    first_failure = np.full(len(_CHECKS), -1, dtype=np.int64)
    kernel(data, offsets, n_references, fixed_bytes, positions, placeholder, first_failure)
    for check, message in enumerate(_CHECKS):
        if first_failure[check] >= 0:
            # Checked in this order on both paths: the same record is named for the same batch.
            raise MalformedRecord(message.format(n_references_less_one=n_references - 1), int(first_failure[check]))
    name_start, cigar_start, seq_start, qual_start, tags_start, end, l_seq, n_cigar_op = positions
    fixed = fixed_bytes.view(FIXED_FIELDS_DTYPE)
    return RecordSpans(fixed, name_start, cigar_start, seq_start, qual_start, tags_start, end, l_seq, n_cigar_op,
                       placeholder)


# The structural checks, in the order both paths make them (a batch breaking several reports
# the first check broken, at the first record breaking it).
_CHECKS = (
    f"record offset outside the data, or fewer than {FIXED_FIELDS_SIZE} bytes left for its fixed fields",
    "block_size runs past the end of the data",
    "record overlaps the next one (offsets not ascending?)",
    "l_read_name is 0 (the name must at least hold its NUL)",
    "negative l_seq",
    "name, CIGAR, sequence and qualities overrun block_size",
    "read name is not NUL-terminated",
    "ref_id outside -1..{n_references_less_one}",
    "next_ref_id outside -1..{n_references_less_one}",
)
_POSITIONS = 8  # rows of the kernel's positions output, in RecordSpans field order


def _spans_vectorised(data: np.ndarray, offsets: np.ndarray, n_references: int) -> RecordSpans:
    """The numpy path of :func:`compute_record_spans`: one whole-batch operation per step."""
    records = np.arange(len(offsets))
    require((offsets >= 0) & (offsets + FIXED_FIELDS_SIZE <= len(data)), records, _CHECKS[0])
    fixed = gather_fixed_fields(data, offsets)
    l_read_name = fixed["l_read_name"].astype(np.int64)
    l_seq = fixed["l_seq"].astype(np.int64)
    n_cigar_op = fixed["n_cigar_op"].astype(np.int64)
    name_start = offsets + FIXED_FIELDS_SIZE
    cigar_start = name_start + l_read_name
    seq_start = cigar_start + CIGAR_OP_BYTES * n_cigar_op
    qual_start = seq_start + (np.maximum(l_seq, 0) + 1) // 2
    tags_start = qual_start + np.maximum(l_seq, 0)
    end = offsets + BLOCK_SIZE_BYTES + fixed["block_size"].astype(np.int64)

    require(end <= len(data), records, _CHECKS[1])
    require(end[:-1] <= offsets[1:], records, _CHECKS[2])
    require(l_read_name >= 1, records, _CHECKS[3])
    require(l_seq >= 0, records, _CHECKS[4])
    require(tags_start <= end, records, _CHECKS[5])
    require(data[cigar_start - 1] == 0, records, _CHECKS[6])
    for check, field in ((7, "ref_id"), (8, "next_ref_id")):
        ids = fixed[field]
        require((ids >= -1) & (ids < n_references), records,
                _CHECKS[check].format(n_references_less_one=n_references - 1))
    # The checks above keep every first op (4 bytes at cigar_start) inside the data.
    first_op = at_every_byte(data, np.dtype("<u4"))[np.where(n_cigar_op > 0, cigar_start, 0)].astype(np.int64)
    placeholder = ((n_cigar_op > 0) & (fixed["ref_id"] >= 0) & (fixed["pos"] >= 0)
                   & ((first_op & CIGAR_OP_MASK) == _SOFT_CLIP) & ((first_op >> CIGAR_OP_SHIFT) == l_seq))
    return RecordSpans(fixed, name_start, cigar_start, seq_start, qual_start, tags_start, end, l_seq, n_cigar_op,
                       placeholder)


def spans_kernel(data, offsets, n_references, fixed_bytes, positions, placeholder, first_failure):
    """Per record: copy its 36 fixed bytes, compute its field positions, run the checks
    (numba-compiled; see :mod:`.kernels`).

    ``positions`` rows: name, cigar, seq, qual, tags starts, end, l_seq, n_cigar_op;
    ``placeholder``: see :attr:`RecordSpans.cigar_placeholder`.
    ``first_failure[k]`` becomes the first record failing check k of :data:`_CHECKS`; a
    record failing a check is not checked further (the earlier check is reported anyway).
    """
    size = len(data)
    n = len(offsets)
    for record in range(n):
        at = offsets[record]
        if at < 0 or at + 36 > size:
            if first_failure[0] < 0:
                first_failure[0] = record
            continue
        for k in range(36):
            fixed_bytes[36 * record + k] = data[at + k]
        # SAMv1 §4.2 little-endian fields: block_size @0, ref_id @4, pos @8, l_read_name @12,
        # n_cigar_op @16, l_seq @20, next_ref_id @24.
        block_size = np.int32(np.uint32(data[at]) | (np.uint32(data[at + 1]) << 8)
                              | (np.uint32(data[at + 2]) << 16) | (np.uint32(data[at + 3]) << 24))
        ref_id = np.int32(np.uint32(data[at + 4]) | (np.uint32(data[at + 5]) << 8)
                          | (np.uint32(data[at + 6]) << 16) | (np.uint32(data[at + 7]) << 24))
        pos = np.int32(np.uint32(data[at + 8]) | (np.uint32(data[at + 9]) << 8)
                       | (np.uint32(data[at + 10]) << 16) | (np.uint32(data[at + 11]) << 24))
        l_read_name = np.int64(data[at + 12])
        n_cigar_op = np.int64(data[at + 16]) | (np.int64(data[at + 17]) << 8)
        l_seq = np.int64(np.int32(np.uint32(data[at + 20]) | (np.uint32(data[at + 21]) << 8)
                                  | (np.uint32(data[at + 22]) << 16) | (np.uint32(data[at + 23]) << 24)))
        next_ref_id = np.int32(np.uint32(data[at + 24]) | (np.uint32(data[at + 25]) << 8)
                               | (np.uint32(data[at + 26]) << 16) | (np.uint32(data[at + 27]) << 24))
        bases = max(l_seq, 0)
        name_start = at + 36
        cigar_start = name_start + l_read_name
        seq_start = cigar_start + 4 * n_cigar_op
        qual_start = seq_start + (bases + 1) // 2
        tags_start = qual_start + bases
        end = at + 4 + np.int64(block_size)
        positions[0, record] = name_start
        positions[1, record] = cigar_start
        positions[2, record] = seq_start
        positions[3, record] = qual_start
        positions[4, record] = tags_start
        positions[5, record] = end
        positions[6, record] = l_seq
        positions[7, record] = n_cigar_op
        in_bounds = True
        if end > size:
            in_bounds = False
            if first_failure[1] < 0:
                first_failure[1] = record
        if record + 1 < n and end > offsets[record + 1] and first_failure[2] < 0:
            first_failure[2] = record
        if l_read_name < 1:
            in_bounds = False
            if first_failure[3] < 0:
                first_failure[3] = record
        if l_seq < 0:
            in_bounds = False
            if first_failure[4] < 0:
                first_failure[4] = record
        if tags_start > end:
            in_bounds = False
            if first_failure[5] < 0:
                first_failure[5] = record
        if in_bounds and data[cigar_start - 1] != 0 and first_failure[6] < 0:
            first_failure[6] = record
        if in_bounds and n_cigar_op > 0 and ref_id >= 0 and pos >= 0:
            # SAMv1 §4.2: op = length << 4 | code; code 4 is S (soft clip).
            op = (np.int64(data[cigar_start]) | (np.int64(data[cigar_start + 1]) << 8)
                  | (np.int64(data[cigar_start + 2]) << 16) | (np.int64(data[cigar_start + 3]) << 24))
            placeholder[record] = (op & 0xF) == 4 and (op >> 4) == l_seq
        if (ref_id < -1 or ref_id >= n_references) and first_failure[7] < 0:
            first_failure[7] = record
        if (next_ref_id < -1 or next_ref_id >= n_references) and first_failure[8] < 0:
            first_failure[8] = record
