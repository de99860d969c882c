"""CIGAR columns (``cigar`` text, ``reference_end``) for all records at once.

SAMv1 §4.2: each CIGAR op is a uint32 ``length << 4 | code``, codes 0..8 being ``MIDNSHP=X``.
SAMv1 §4.2.2: n_cigar_op is 16 bits, so a CIGAR of more than 65535 ops is stored in a
``CG:B,I`` tag and the record holds a two-op placeholder ``<l_seq>S<ref_len>N``.  Readers
must use the CG tag's ops instead; this module does it under htslib's conditions, so that
the columns agree with pysam.

The compiled kernels (see :mod:`.kernels`) write the text and sum the lengths per record;
the numpy path renders every op's text at once, and sums lengths by cumulative sums.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyarrow as pa

from .arrow_build import primitive_array
from .layout import (
    CG_TAG,
    CIGAR_CONSUMES_QUERY,
    CIGAR_CONSUMES_REF,
    CIGAR_OP_MASK,
    CIGAR_OP_SHIFT,
    CIGAR_OPS,
    FLAG_UNMAPPED,
    MAX_CIGAR_OP_CODE,
)
from ..kernels import compiled
from .numtext import integer_rows
from .ragged import Ragged, string_array, take_byte_ranges
from .spans import CIGAR_OP_BYTES, MalformedRecord, RecordSpans
from .tags import ARRAY_HEADER_BYTES, TYPE_ARRAY, TagEntries

_OP_LETTERS = np.frombuffer(CIGAR_OPS.encode("ascii"), dtype=np.uint8)
# htslib moves a CG tag into the CIGAR only when it has fewer than 2**29 ops (its sanity
# limit) and at least as many as the placeholder; both subtypes 'I' and 'i' are accepted.
_MAX_LONG_CIGAR_OPS = 1 << 29
_CG_SUBTYPES = [ord("I"), ord("i")]


@dataclass(frozen=True)
class LongCigars:
    """Records whose real CIGAR is in their CG tag."""

    records: np.ndarray  # batch index of each such record
    ops_start: np.ndarray  # position in data of the CG array's first op
    n_ops: np.ndarray
    entries: np.ndarray  # index of the CG tag in the TagEntries it was found in


@dataclass(frozen=True)
class CigarOps:
    """The ops of all records back to back: record i's are ``ops[offsets[i]:offsets[i+1]]``."""

    ops: np.ndarray  # uint32
    offsets: np.ndarray  # int64, n + 1

    @property
    def lengths(self) -> np.ndarray:
        return (self.ops >> CIGAR_OP_SHIFT).astype(np.int64)

    @property
    def codes(self) -> np.ndarray:
        return self.ops & CIGAR_OP_MASK


def placeholder_records(spans: RecordSpans) -> np.ndarray:
    """Batch indexes of placed records whose stored CIGAR starts by soft-clipping the whole read.

    Only they may hold a long CIGAR in CG (a cheap filter: the tags of the others are never
    walked for it).
    """
    return np.flatnonzero(spans.cigar_placeholder)


def find_long_cigars(spans: RecordSpans, entries: TagEntries, candidates: np.ndarray) -> LongCigars:
    """The CG tags (among ``entries``) that replace the CIGAR of a record in ``candidates``."""
    if len(candidates) == 0:  # the usual case: no record has a placeholder CIGAR
        none = np.zeros(0, dtype=np.int64)
        return LongCigars(none, none, none, none)
    # Only the candidates' tags are looked at.
    searched = entries.entries_of(np.flatnonzero(np.isin(entries.records, candidates)))
    cg = searched[entries.keys_equal(CG_TAG, searched)]
    walked = entries.walked_record_of(cg)
    # Like htslib, only the first CG tag of a record counts.
    is_first = np.concatenate([[True], walked[1:] != walked[:-1]]) if len(cg) else np.zeros(0, dtype=bool)
    first, walked = cg[is_first], walked[is_first]
    record = entries.records[walked]
    value_start = entries.value_start_of(first)
    is_uint_array = (entries.type[first] == TYPE_ARRAY) & np.isin(entries.buffer[value_start], _CG_SUBTYPES)
    n_ops = np.zeros(len(first), dtype=np.int64)
    n_ops[is_uint_array] = entries.array_counts(first[is_uint_array])
    usable = is_uint_array & (n_ops >= spans.n_cigar_op[record]) & (n_ops < _MAX_LONG_CIGAR_OPS)
    first, record, n_ops = first[usable], record[usable], n_ops[usable]
    # The entries index the data itself: the ops follow the array header.
    ops_start = entries.value_start_of(first) + ARRAY_HEADER_BYTES
    return LongCigars(record, ops_start, n_ops, first)


def gather_cigar_ops(data: np.ndarray, spans: RecordSpans, long_cigars: Optional[LongCigars] = None) -> CigarOps:
    """Every record's CIGAR ops as stored, or with the CG tag's ops where ``long_cigars`` says."""
    start, n_ops = spans.cigar_start, spans.n_cigar_op
    if long_cigars is not None and len(long_cigars.records):
        start, n_ops = start.copy(), n_ops.copy()
        start[long_cigars.records] = long_cigars.ops_start
        n_ops[long_cigars.records] = long_cigars.n_ops
    raw = take_byte_ranges(data, start, CIGAR_OP_BYTES * n_ops)
    return CigarOps(raw.values.view("<u4"), raw.offsets // CIGAR_OP_BYTES)


def check_op_codes(ops: CigarOps) -> CigarOps:
    """``ops``, after making sure every op code is one of MIDNSHP=X."""
    bad = np.flatnonzero(ops.codes > MAX_CIGAR_OP_CODE)
    if bad.size:
        record = int(np.searchsorted(ops.offsets, bad[0], side="right") - 1)
        raise MalformedRecord(f"CIGAR op code {int(ops.codes[bad[0]])} is not one of {CIGAR_OPS}", record)
    return ops


def check_query_lengths(spans: RecordSpans, ops: CigarOps) -> CigarOps:
    """``ops``, after htslib's ``bam_read1`` check: a mapped record with a sequence and a CIGAR
    must have as many query bases as its CIGAR consumes (M, I, S, = and X ops).  A record
    garbled by corruption that keeps its block_size chain intact rarely passes this."""
    query_length = consumed_lengths(ops, CIGAR_CONSUMES_QUERY)
    checked = (np.diff(ops.offsets) > 0) & (spans.l_seq > 0) & ((spans.fixed["flag"] & FLAG_UNMAPPED) == 0)
    bad = np.flatnonzero(checked & (query_length != spans.l_seq))
    if bad.size:
        record = int(bad[0])
        raise MalformedRecord(f"CIGAR consumes {int(query_length[record])} query bases but l_seq is "
                              f"{int(spans.l_seq[record])}", record)
    return ops


def cigar_column(ops: CigarOps) -> pa.StringArray:
    """SAM CIGAR text per record ("76M2I3S"); null where the record has no CIGAR."""
    valid = np.diff(ops.offsets) > 0
    kernel = compiled(cigar_text_kernel)
    if kernel is not None:
        # Every op's text fits in _MAX_OP_TEXT bytes.
        text = np.empty(_MAX_OP_TEXT * len(ops.ops), dtype=np.uint8)
        text_offsets = np.empty(len(ops.offsets), dtype=np.int64)
        size = kernel(ops.ops, ops.offsets, _OP_LETTER_OF_CODE, text_offsets, text)
        return string_array(Ragged(text[:size], text_offsets), valid=valid)
    op_texts = integer_rows(ops.lengths, suffix_columns=1)
    op_texts.rows[:, -1] = _OP_LETTERS[ops.codes]
    text = take_byte_ranges(op_texts.rows.reshape(-1), op_texts.starts, op_texts.lengths)
    # A record's ops are contiguous, so its text is one contiguous run of op texts.
    per_record = Ragged(text.values, text.offsets[ops.offsets])
    return string_array(per_record, valid=valid)


def reference_end_column(spans: RecordSpans, ops: CigarOps) -> pa.Int32Array:
    """pysam's ``reference_end``: start + reference length (at least 1); null if unmapped or no CIGAR."""
    reference_length = consumed_lengths(ops, CIGAR_CONSUMES_REF)
    # htslib's bam_endpos counts an alignment consuming no reference as covering one base.
    end = spans.fixed["pos"].astype(np.int64) + np.maximum(reference_length, 1)
    valid = ((spans.fixed["flag"] & FLAG_UNMAPPED) == 0) & (np.diff(ops.offsets) > 0)
    return primitive_array(end, np.int32, valid=valid)


def consumed_lengths(ops: CigarOps, consumes: np.ndarray) -> np.ndarray:
    """Per record, the summed lengths of its ops whose code ``consumes`` marks (codes checked)."""
    kernel = compiled(consumed_kernel)
    if kernel is not None:
        table = np.zeros(CIGAR_OP_MASK + 1, dtype=np.bool_)
        table[: len(consumes)] = consumes
        lengths = np.empty(len(ops.offsets) - 1, dtype=np.int64)
        kernel(ops.ops, ops.offsets, table, lengths)
        return lengths
    consumed = np.where(consumes[ops.codes], ops.lengths, 0)
    running = np.zeros(len(consumed) + 1, dtype=np.int64)
    np.cumsum(consumed, out=running[1:])
    return running[ops.offsets[1:]] - running[ops.offsets[:-1]]


# SAMv1 §4.2: an op length has 28 bits, at most 9 decimal digits, then the op letter.
_MAX_OP_TEXT = 10
_OP_LETTER_OF_CODE = np.zeros(CIGAR_OP_MASK + 1, dtype=np.uint8)
_OP_LETTER_OF_CODE[: len(_OP_LETTERS)] = _OP_LETTERS


def consumed_kernel(ops, offsets, consumes, lengths):
    """Per record, the summed lengths of the ops whose code ``consumes`` (16 entries) marks
    (numba-compiled; see :mod:`.kernels`)."""
    for record in range(len(offsets) - 1):
        total = np.int64(0)
        for k in range(offsets[record], offsets[record + 1]):
            op = ops[k]
            if consumes[op & 0xF]:
                total += np.int64(op >> 4)
        lengths[record] = total


def cigar_text_kernel(ops, offsets, letters, text_offsets, text):
    """Each record's CIGAR text ("76M2I3S") back to back; returns the bytes written
    (numba-compiled; see :mod:`.kernels`)."""
    at = 0
    for record in range(len(offsets) - 1):
        text_offsets[record] = at
        for k in range(offsets[record], offsets[record + 1]):
            op = ops[k]
            length = np.int64(op >> 4)
            digits = 1
            rest = length
            while rest >= 10:
                rest //= 10
                digits += 1
            for place in range(digits):
                text[at + digits - 1 - place] = 48 + length % 10  # '0' + digit
                length //= 10
            text[at + digits] = letters[op & 0xF]
            at += digits + 1
    text_offsets[len(offsets) - 1] = at
    return at
