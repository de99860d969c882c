"""The one record predicate: which checks fail if a BAM record started at each position.

Every checker (eager, full) and the split finder call :func:`check_records`; they differ
only in which checks they ask for (``wanted``) and whether a position may stop at its first
failing stage (``early``). All checks read the record as SAMv1 §4.2 lays it out, from a
:class:`~.fields.RunView`: 36 fixed bytes, then ``l_read_name`` name bytes, then
``n_cigar_op`` uint32 ops. Records crossing block boundaries are contiguous in the run.

"Not a record here" is data: a flag bit. Running out of data is data too: when the run
does not reach the end of the file (``at_end`` false), a record whose checked bytes run
past the run is marked ``need_more`` rather than failed, and the caller reads further.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np

from sparkbam_py.bam.header import BamHeader
from sparkbam_py.bam.layout import (
    BLOCK_SIZE_BYTES, FIXED_FIELDS_SIZE, FLAG_UNMAPPED, OFF_BLOCK_SIZE, OFF_FLAG, OFF_L_READ_NAME, OFF_L_SEQ,
    OFF_N_CIGAR_OP, OFF_NEXT_POS, OFF_NEXT_REF_ID, OFF_POS, OFF_REF_ID, OFF_READ_NAME,
)

from .fields import CIGAR_OP_BYTES, NOT_PRINTABLE, NOT_QNAME_CHAR, NUL_BYTE, RunView
from .flags import BIT, CIGAR_FLAGS, NAME_FLAGS, TOO_FEW_FIXED

# SAMv1 §4.2: block_size counts the 32 fixed bytes after itself, the name, 4 bytes per op,
# (l_seq+1)/2 bytes of 4-bit bases and l_seq quality bytes (tags come after and may be absent).
BYTES_AFTER_BLOCK_SIZE = FIXED_FIELDS_SIZE - BLOCK_SIZE_BYTES
# SAMv1 §1.4.2: FLAG bits 0x1..0x800 are defined; anything above is unknown.
KNOWN_FLAG_BITS = 0xFFF

Where = Union[np.ndarray, Tuple[int, int]]


@dataclass(frozen=True)
class References:
    """What the checks need from the header: the contig count and lengths."""

    n_ref: int
    lengths: np.ndarray  # int64, one per contig

    @classmethod
    def of(cls, header: BamHeader) -> "References":
        return cls(header.n_ref, header.reference_lengths_array())


class RecordChecks(NamedTuple):
    """Per candidate: failing checks, whether the data stopped too soon to tell, and where
    the following record would start (meaningful where nothing failed)."""

    flags: np.ndarray  # uint32 bit masks (see flags.py)
    need_more: np.ndarray  # bool
    next_start: np.ndarray  # int64 index into the run


def check_records(view: RunView, where: Where, refs: References, wanted: int, early: bool) -> RecordChecks:
    """Evaluate the ``wanted`` checks for records starting at ``where``: an index array, or
    a ``(lo, hi)`` range of every position (the fast path: fields read through views).

    ``early``: a candidate that fails one stage (fixed fields, name, CIGAR) skips the rest,
    so its flags are a non-empty subset of what failed; otherwise every wanted check is
    evaluated (the full checker).
    """
    if isinstance(where, tuple):
        lo, hi = where
        count = hi - lo
        # In a range, the positions with 36 bytes after them are a prefix of it.
        with_fixed = min(max(view.n - FIXED_FIELDS_SIZE + 1 - lo, 0), count)
        lacks_fixed = slice(with_fixed, count)
    else:
        lo = None
        indices = np.asarray(where, dtype=np.int64)
        count = len(indices)
        has_fixed = indices + FIXED_FIELDS_SIZE <= view.n
        lacks_fixed = ~has_fixed
    flags = np.zeros(count, dtype=np.uint32)
    need_more = np.zeros(count, dtype=bool)
    next_start = np.zeros(count, dtype=np.int64)
    _out_of_data(view, lacks_fixed, flags, need_more, TOO_FEW_FIXED)

    contiguous = lo is not None
    if contiguous and early:
        alive = _prefilter_reference(view, lo, with_fixed, refs, wanted, flags)
        contiguous = False
    elif contiguous:
        alive = np.arange(with_fixed)
    else:
        alive = np.flatnonzero(has_fixed)
    if len(alive) == 0:
        return RecordChecks(flags, need_more, next_start)

    at = alive + lo if lo is not None else indices[alive]
    fields = _Fields(view, at, lo if contiguous else None)
    fixed = _fixed_field_flags(fields, refs, wanted)
    flags[alive] |= fixed
    next_start[alive] = at + BLOCK_SIZE_BYTES + fields.int32(OFF_BLOCK_SIZE)
    if early:
        keep = fixed == 0
        alive, at, fields = alive[keep], at[keep], fields.subset(keep)
    if wanted & (NAME_FLAGS | CIGAR_FLAGS | BIT["tooFewBytesForReadName"] | BIT["tooFewBytesForCigarOps"]):
        _name_and_cigar_flags(view, alive, at, fields, wanted, early, flags, need_more)
    return RecordChecks(flags, need_more, next_start)


def _out_of_data(view: RunView, missing: np.ndarray, flags: np.ndarray, need_more: np.ndarray, flag: int) -> None:
    """Bytes a check needs lie past the run: a failure at the end of the file, else "read on"."""
    if view.at_end:
        flags[missing] |= np.uint32(flag)
    else:
        need_more[missing] = True


def _prefilter_reference(view: RunView, lo: int, count: int, refs: References, wanted: int,
                         flags: np.ndarray) -> np.ndarray:
    """Early mode over a range: the reference-id test alone, through a view of every
    position, rejects most non-record bytes before anything is gathered."""
    ref_bits = wanted & (BIT["negativeReadIdx"] | BIT["tooLargeReadIdx"])
    if ref_bits != BIT["negativeReadIdx"] | BIT["tooLargeReadIdx"]:
        return np.arange(count)
    ref_id = view.int32_slice(lo + OFF_REF_ID, lo + OFF_REF_ID + count)
    # refID in [-1, n_ref) <=> refID + 1 in [0, n_ref + 1), one unsigned comparison.
    bad = (ref_id.view(np.uint32) + np.uint32(1)) >= np.uint32(refs.n_ref + 1)
    head = flags[:count]
    head |= bad.view(np.uint8) * np.uint32(BIT["tooLargeReadIdx"])
    head[ref_id < -1] = BIT["negativeReadIdx"]
    return np.flatnonzero(~bad)


class _Fields:
    """Fixed fields of the candidates: slices of views for a whole range, else gathers."""

    def __init__(self, view: RunView, at: np.ndarray, lo: Optional[int]):
        self.view, self.at, self.lo = view, at, lo
        self._cache = {}

    def subset(self, keep: np.ndarray) -> "_Fields":
        sub = _Fields(self.view, self.at[keep], None)
        sub._cache = {key: values[keep] for key, values in self._cache.items()}
        return sub

    def _read(self, offset: int, kind: str) -> np.ndarray:
        key = (offset, kind)
        if key not in self._cache:
            view = self.view
            if self.lo is not None:
                stop = self.lo + offset + len(self.at)
                source = {"i4": view._i32, "u2": view._u16, "u1": view.data}[kind]
                values = source[self.lo + offset : stop]
            else:
                target = self.at + offset
                values = {"i4": view.int32_at, "u2": view.uint16_at, "u1": view.uint8_at}[kind](target)
            self._cache[key] = values.astype(np.int64)
        return self._cache[key]

    def int32(self, offset: int) -> np.ndarray:
        return self._read(offset, "i4")

    def uint16(self, offset: int) -> np.ndarray:
        return self._read(offset, "u2")

    def uint8(self, offset: int) -> np.ndarray:
        return self._read(offset, "u1")


def _fixed_field_flags(fields: _Fields, refs: References, wanted: int) -> np.ndarray:
    """Every wanted check that reads only the 36 fixed bytes."""
    flags = np.zeros(len(fields.at), dtype=np.uint32)

    def mark(name: str, failing) -> None:
        if wanted & BIT[name]:
            flags[failing] |= np.uint32(BIT[name])

    for prefix, ref_offset, pos_offset in (("Read", OFF_REF_ID, OFF_POS), ("NextRead", OFF_NEXT_REF_ID, OFF_NEXT_POS)):
        ref_id, pos = fields.int32(ref_offset), fields.int32(pos_offset)
        placed = (ref_id >= 0) & (ref_id < refs.n_ref)
        mark(f"negative{prefix}Idx", ref_id < -1)
        mark(f"tooLarge{prefix}Idx", ref_id >= refs.n_ref)
        mark(f"negative{prefix}Pos", pos < -1)
        if wanted & BIT[f"tooLarge{prefix}Pos"] and refs.n_ref:
            contig_length = refs.lengths[np.where(placed, ref_id, 0)]
            mark(f"tooLarge{prefix}Pos", placed & (pos > contig_length))

    name_length = fields.uint8(OFF_L_READ_NAME)
    mark("noReadName", name_length == 0)
    mark("emptyReadName", name_length == 1)

    n_cigar, l_seq, flag = fields.uint16(OFF_N_CIGAR_OP), fields.int32(OFF_L_SEQ), fields.uint16(OFF_FLAG)
    mapped = (flag & FLAG_UNMAPPED) == 0
    mark("emptyMappedCigar", mapped & (n_cigar == 0))
    mark("emptyMappedSeq", mapped & (l_seq == 0))
    mark("emptyMappedRead", mapped & (n_cigar == 0) & (l_seq == 0))
    mark("negativeSeqLength", l_seq < 0)
    mark("unknownFlagBits", (flag & ~KNOWN_FLAG_BITS) != 0)

    # (l_seq + 1) / 2 as Java and C compute it (truncating toward zero), in 64 bits so
    # garbage lengths cannot wrap around into a pass.
    half = l_seq + 1
    half = np.where(half >= 0, half // 2, -((-half) // 2))
    implied = BYTES_AFTER_BLOCK_SIZE + name_length + CIGAR_OP_BYTES * n_cigar + l_seq + half
    mark("tooFewRemainingBytesImplied", fields.int32(OFF_BLOCK_SIZE) < implied)
    return flags


def _name_and_cigar_flags(view: RunView, alive: np.ndarray, at: np.ndarray, fields: _Fields, wanted: int,
                          early: bool, flags: np.ndarray, need_more: np.ndarray) -> None:
    """Checks on the name bytes, then on the CIGAR ops after them (read only when the whole
    name is in the data, as spark-bam does)."""
    name_length = fields.uint8(OFF_L_READ_NAME)
    name_end = at + OFF_READ_NAME + name_length
    has_name = name_end <= view.n
    missing = np.zeros(len(flags), dtype=bool)
    missing[alive[~has_name]] = True
    _out_of_data(view, missing, flags, need_more, BIT["tooFewBytesForReadName"])

    named = has_name & (name_length >= 2)
    rows = np.flatnonzero(named)
    starts, text_length = at[rows] + OFF_READ_NAME, name_length[rows] - 1
    name_flags = np.zeros(len(rows), dtype=np.uint32)
    for name, failing in (
        ("nonNullTerminatedReadName", lambda: view.uint8_at(name_end[rows] - 1) != 0),
        ("nonASCIIReadName", lambda: view.count_in_spans(NOT_QNAME_CHAR, starts, text_length) > 0),
        ("nulInReadName", lambda: view.count_in_spans(NUL_BYTE, starts, text_length) > 0),
        ("nonPrintableReadName", lambda: view.count_in_spans(NOT_PRINTABLE, starts, text_length) > 0),
    ):
        if wanted & BIT[name]:
            name_flags[failing()] |= np.uint32(BIT[name])
    flags[alive[rows]] |= name_flags
    if not wanted & (CIGAR_FLAGS | BIT["tooFewBytesForCigarOps"]):
        return

    keep = has_name.copy()
    if early:
        keep[rows[name_flags != 0]] = False
    rows = np.flatnonzero(keep)
    n_cigar = fields.uint16(OFF_N_CIGAR_OP)[rows]
    cigar_start = name_end[rows]
    has_cigar = cigar_start + CIGAR_OP_BYTES * n_cigar <= view.n
    missing = np.zeros(len(flags), dtype=bool)
    missing[alive[rows[~has_cigar]]] = True
    _out_of_data(view, missing, flags, need_more, BIT["tooFewBytesForCigarOps"])

    rows, n_cigar, cigar_start = rows[has_cigar], n_cigar[has_cigar], cigar_start[has_cigar]
    invalid = view.count_invalid_ops(cigar_start, n_cigar) > 0
    if wanted & BIT["invalidCigarOp"]:
        flags[alive[rows[invalid]]] |= np.uint32(BIT["invalidCigarOp"])
    if wanted & BIT["cigarSeqLengthMismatch"]:
        l_seq = fields.int32(OFF_L_SEQ)[rows]
        # Only a valid CIGAR has a query length; the CG-tag placeholder "<l_seq>S<n>N"
        # (SAMv1 §4.2.2) is consistent by construction.
        compared = np.flatnonzero(~invalid & (n_cigar > 0) & (l_seq > 0))
        query = view.query_lengths(cigar_start[compared], n_cigar[compared])
        mismatched = compared[query != l_seq[compared]]
        flags[alive[rows[mismatched]]] |= np.uint32(BIT["cigarSeqLengthMismatch"])
