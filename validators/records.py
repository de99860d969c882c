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

from .fields import CIGAR_OP_BYTES, NOT_PRINTABLE, NUL_BYTE, OTHER_PRINTABLE, RunView
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
        lacks_fixed = (indices + FIXED_FIELDS_SIZE > view.n) | (indices < 0)
    flags = np.zeros(count, dtype=np.uint32)
    need_more = np.zeros(count, dtype=bool)
    next_start = np.zeros(count, dtype=np.int64)
    _out_of_data(view, lacks_fixed, flags, need_more, TOO_FEW_FIXED)

    if lo is not None and early:
        alive = _prefilter_reference(view, lo, with_fixed, refs, wanted, flags)
        at = alive + lo
    elif lo is not None:
        alive = slice(0, with_fixed)
        at = np.arange(lo, lo + with_fixed, dtype=np.int64)
    else:
        alive = np.flatnonzero(~lacks_fixed)
        at = indices[alive]
    if len(at) == 0:
        return RecordChecks(flags, need_more, next_start)

    fields = _Fields(view, at, lo if isinstance(alive, slice) else None)
    local = _fixed_field_flags(fields, refs, wanted)
    next_start[alive] = at + BLOCK_SIZE_BYTES + fields.int32(OFF_BLOCK_SIZE)
    if early:
        # Rejected on the fixed fields: done. Only the rest read names and CIGARs.
        failed = local != 0
        flags[alive[failed]] = local[failed]
        keep = ~failed
        alive, at, fields, local = alive[keep], at[keep], fields.subset(keep), local[keep]
    local_need = np.zeros(len(at), dtype=bool)
    if wanted & (NAME_FLAGS | CIGAR_FLAGS | BIT["tooFewBytesForReadName"] | BIT["tooFewBytesForCigarOps"]):
        _name_and_cigar_flags(view, at, fields, wanted, local, local_need)
    if early:
        local_need &= local == 0  # a record that failed needs no more data to be rejected
    flags[alive] |= local
    need_more[alive] |= local_need
    return RecordChecks(flags, need_more, next_start)


def _out_of_data(view: RunView, missing, flags: np.ndarray, need_more: np.ndarray, flag: int) -> None:
    """Bytes a check needs lie past the run: a failure at the end of the file, else "read on"."""
    if view.at_end:
        np.bitwise_or(flags, np.uint32(flag), out=flags, where=missing) if not isinstance(missing, slice) \
            else np.bitwise_or(flags[missing], np.uint32(flag), out=flags[missing])
    else:
        need_more[missing] = True


def _mark(flags: np.ndarray, wanted: int, name: str, failing) -> None:
    """Set check ``name`` where ``failing`` (an array, or a thunk so unwanted checks cost
    nothing)."""
    bit = BIT[name]
    if wanted & bit:
        mask = failing() if callable(failing) else failing
        np.bitwise_or(flags, np.uint32(bit), out=flags, where=mask)


def _prefilter_reference(view: RunView, lo: int, count: int, refs: References, wanted: int,
                         flags: np.ndarray) -> np.ndarray:
    """Early mode over a range: the reference-id test alone, through a view of every
    position, rejects most non-record bytes before anything is gathered."""
    both = BIT["negativeReadIdx"] | BIT["tooLargeReadIdx"]
    if wanted & both != both:
        return np.arange(count)
    ref_id = view.int32_slice(lo + OFF_REF_ID, lo + OFF_REF_ID + count)
    # refID in [-1, n_ref) <=> refID + 1 in [0, n_ref + 1), one unsigned comparison.
    bad = (ref_id.view(np.uint32) + np.uint32(1)) >= np.uint32(refs.n_ref + 1)
    head = flags[:count]
    head |= bad.view(np.uint8) * np.uint32(BIT["tooLargeReadIdx"])
    head[ref_id < -1] = BIT["negativeReadIdx"]
    return np.flatnonzero(~bad)


class _Fields:
    """Fixed fields of the candidates (native dtypes): slices of views over a whole range,
    else gathers at the candidates."""

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
                source = {"i4": view._i32, "u2": view._u16, "u1": view.data}[kind]
                values = source[self.lo + offset : self.lo + offset + len(self.at)]
            else:
                values = {"i4": view.int32_at, "u2": view.uint16_at, "u1": view.uint8_at}[kind](self.at + offset)
            self._cache[key] = values
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
    for prefix, ref_offset, pos_offset in (("Read", OFF_REF_ID, OFF_POS), ("NextRead", OFF_NEXT_REF_ID, OFF_NEXT_POS)):
        ref_id, pos = fields.int32(ref_offset), fields.int32(pos_offset)
        _mark(flags, wanted, f"negative{prefix}Idx", lambda: ref_id < -1)
        _mark(flags, wanted, f"tooLarge{prefix}Idx", lambda: ref_id >= refs.n_ref)
        _mark(flags, wanted, f"negative{prefix}Pos", lambda: pos < -1)
        if refs.n_ref:
            _mark(flags, wanted, f"tooLarge{prefix}Pos", lambda: _past_contig_end(ref_id, pos, refs))

    name_length = fields.uint8(OFF_L_READ_NAME)
    _mark(flags, wanted, "noReadName", lambda: name_length == 0)
    _mark(flags, wanted, "emptyReadName", lambda: name_length == 1)

    n_cigar, l_seq, flag = fields.uint16(OFF_N_CIGAR_OP), fields.int32(OFF_L_SEQ), fields.uint16(OFF_FLAG)
    mapped = (flag & FLAG_UNMAPPED) == 0
    # One of three, so that each check can be weighed alone (spark-bam set both of its two
    # when a mapped read had neither CIGAR nor SEQ).
    _mark(flags, wanted, "emptyMappedCigar", lambda: mapped & (n_cigar == 0) & (l_seq != 0))
    _mark(flags, wanted, "emptyMappedSeq", lambda: mapped & (l_seq == 0) & (n_cigar != 0))
    _mark(flags, wanted, "emptyMappedRead", lambda: mapped & (n_cigar == 0) & (l_seq == 0))
    _mark(flags, wanted, "negativeSeqLength", lambda: l_seq < 0)
    _mark(flags, wanted, "unknownFlagBits", lambda: flag > KNOWN_FLAG_BITS)
    block_size = fields.int32(OFF_BLOCK_SIZE)
    _mark(flags, wanted, "tooFewRemainingBytesImplied",
          lambda: block_size < _implied_block_size(name_length, n_cigar, l_seq))
    # A block_size that cannot even hold the fixed fields would chain backwards: always a
    # failure, whatever was asked (only a veto set without the length check gets here).
    _mark(flags, BIT["tooFewRemainingBytesImplied"], "tooFewRemainingBytesImplied",
          lambda: block_size < BYTES_AFTER_BLOCK_SIZE)
    return flags


def _past_contig_end(ref_id: np.ndarray, pos: np.ndarray, refs: References) -> np.ndarray:
    placed = (ref_id >= 0) & (ref_id < refs.n_ref)
    return placed & (pos > refs.lengths[np.where(placed, ref_id, 0)])


def _implied_block_size(name_length, n_cigar, l_seq) -> np.ndarray:
    """The least block_size the lengths allow, in 64 bits so garbage cannot wrap around into
    a pass; ``(l_seq + 1) / 2`` truncates toward zero, as in C and Java."""
    l_seq = l_seq.astype(np.int64)
    half = l_seq + 1
    half = np.where(half >= 0, half >> 1, -((-half) >> 1))
    return BYTES_AFTER_BLOCK_SIZE + name_length + CIGAR_OP_BYTES * n_cigar.astype(np.int64) + l_seq + half


def _name_and_cigar_flags(view: RunView, at: np.ndarray, fields: _Fields, wanted: int,
                          flags: np.ndarray, need_more: np.ndarray) -> None:
    """Checks on the name bytes, then on the CIGAR ops after them (read only when the whole
    name is in the data, as spark-bam does)."""
    n = view.n
    name_length = fields.uint8(OFF_L_READ_NAME).astype(np.int64)
    name_start = np.minimum(at + OFF_READ_NAME, n)
    name_end = at + OFF_READ_NAME + name_length
    has_name = name_end <= n
    _out_of_data(view, ~has_name, flags, need_more, BIT["tooFewBytesForReadName"])

    named = has_name & (name_length >= 2)
    text_length = np.where(named, name_length - 1, 0)
    _mark(flags, wanted, "nonNullTerminatedReadName",
          lambda: named & (view.data[np.clip(name_end - 1, 0, n - 1)] != 0))
    for name, table in (("nonASCIIReadName", OTHER_PRINTABLE), ("nulInReadName", NUL_BYTE),
                        ("nonPrintableReadName", NOT_PRINTABLE)):
        _mark(flags, wanted, name, lambda: view.count_in_spans(table, name_start, text_length) > 0)
    if not wanted & (CIGAR_FLAGS | BIT["tooFewBytesForCigarOps"]):
        return

    # Ops are read up to the first invalid one, as spark-bam does: a CIGAR cut by the end of
    # the data is invalid if an op before the cut is, else too short (or "read on").
    n_cigar = fields.uint16(OFF_N_CIGAR_OP).astype(np.int64)
    cigar_start = np.minimum(name_end, n)
    available_ops = np.where(has_name, np.minimum(n_cigar, (n - cigar_start) // CIGAR_OP_BYTES), 0)
    invalid = view.count_invalid_ops(cigar_start, available_ops) > 0
    has_cigar = has_name & (available_ops == n_cigar)
    _mark(flags, wanted, "invalidCigarOp", invalid)
    _out_of_data(view, has_name & ~has_cigar & ~invalid, flags, need_more, BIT["tooFewBytesForCigarOps"])
    if wanted & BIT["cigarSeqLengthMismatch"]:
        l_seq = fields.int32(OFF_L_SEQ)
        # Only a valid CIGAR has a query length; the CG-tag placeholder "<l_seq>S<n>N"
        # (SAMv1 §4.2.2) is consistent by construction.
        compared = np.flatnonzero(has_cigar & ~invalid & (n_cigar > 0) & (l_seq > 0))
        query = view.query_lengths(cigar_start[compared], n_cigar[compared])
        mismatched = np.zeros(len(at), dtype=bool)
        mismatched[compared[query != l_seq[compared]]] = True
        _mark(flags, wanted, "cigarSeqLengthMismatch", mismatched)
