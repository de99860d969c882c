"""Where each variable-length field of each record lies, for a whole batch at once.

SAMv1 §4.2: after the 36 fixed bytes come read_name (l_read_name bytes, NUL included),
cigar (n_cigar_op uint32), seq ((l_seq + 1) / 2 bytes, two bases per byte), qual (l_seq
bytes) and the auxiliary data up to the end of the record (block_size + 4 bytes from its
start).  Every later step reads fields through these positions, so they are checked here,
once: a record whose lengths do not fit is reported instead of read out of bounds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import BLOCK_SIZE_BYTES, FIXED_FIELDS_SIZE, gather_fixed_fields

# SAMv1 §4.2: a CIGAR op is one uint32.
CIGAR_OP_BYTES = 4


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

    def __len__(self) -> int:
        return len(self.fixed)


def compute_record_spans(data: np.ndarray, offsets: np.ndarray, n_references: int) -> RecordSpans:
    """Fixed fields and field positions of the records starting at ``offsets``; validated."""
    offsets = np.asarray(offsets, dtype=np.int64)
    records = np.arange(len(offsets))
    require(
        (offsets >= 0) & (offsets + FIXED_FIELDS_SIZE <= len(data)), records,
        f"record offset outside the data, or fewer than {FIXED_FIELDS_SIZE} bytes left for its fixed fields",
    )
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

    require(end <= len(data), records, "block_size runs past the end of the data")
    require(end[:-1] <= offsets[1:], records, "record overlaps the next one (offsets not ascending?)")
    require(l_read_name >= 1, records, "l_read_name is 0 (the name must at least hold its NUL)")
    require(l_seq >= 0, records, "negative l_seq")
    require(tags_start <= end, records, "name, CIGAR, sequence and qualities overrun block_size")
    require(data[cigar_start - 1] == 0, records, "read name is not NUL-terminated")
    for field in ("ref_id", "next_ref_id"):
        ids = fixed[field]
        require((ids >= -1) & (ids < n_references), records, f"{field} outside -1..{n_references - 1}")
    return RecordSpans(fixed, name_start, cigar_start, seq_start, qual_start, tags_start, end, l_seq, n_cigar_op)

