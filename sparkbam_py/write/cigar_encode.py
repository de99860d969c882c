"""CIGAR text ("76M2I3S") to BAM ops, for all records at once (SAMv1 §4.2).

Every byte of the column is classified as a digit or an op letter in one pass; each op's
length is the sum of its digits weighted by powers of ten, gathered with one ``bincount``.
A CIGAR of more than 65,535 ops cannot be stored in the 16-bit n_cigar_op (SAMv1 §4.2.2):
such records get the placeholder ``<l_seq>S<ref_len>N`` and their real ops go to a
``CG:B,I`` tag, which :mod:`tag_encode` appends.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..bam.layout import CIGAR_CONSUMES_REF, CIGAR_OP_SHIFT, CIGAR_OPS
from ..arrow_buffers import text_buffers
from .errors import encode_error

# SAMv1 §4.2: n_cigar_op is a uint16.
MAX_STORED_CIGAR_OPS = 0xFFFF
# SAMv1 §4.2: an op length is 28 bits (uint32 with the code in the low 4).
MAX_OP_LENGTH = (1 << 28) - 1
_SOFT_CLIP = CIGAR_OPS.index("S")
_REF_SKIP = CIGAR_OPS.index("N")
_CODE_OF_LETTER = np.full(256, -1, dtype=np.int64)
_CODE_OF_LETTER[np.frombuffer(CIGAR_OPS.encode("ascii"), dtype=np.uint8)] = np.arange(len(CIGAR_OPS))
_ZERO, _NINE = ord("0"), ord("9")


@dataclass(frozen=True)
class EncodedCigars:
    """Each record's ops as stored, ``ops[offsets[i]:offsets[i+1]]``; long ones kept apart."""

    ops: np.ndarray  # uint32, the stored ops (placeholders for long CIGARs)
    offsets: np.ndarray  # int64, n + 1
    reference_length: np.ndarray  # int64 per record, from the real ops
    long_records: np.ndarray  # records whose real ops go to a CG tag
    long_ops: np.ndarray  # uint32, those records' real ops back to back
    long_offsets: np.ndarray  # int64, len(long_records) + 1


def parse_cigar_ops(cigar: pa.Array):
    """``(ops uint32, offsets int64)`` of the CIGAR texts; null, "" and "*" have no ops."""
    values, offsets, valid = text_buffers(cigar)
    star = (np.diff(offsets) == 1) & (values[np.minimum(offsets[:-1], max(len(values) - 1, 0))] == ord("*")) \
        if len(values) else np.zeros(len(cigar), dtype=bool)
    if star.any():  # a "*" byte is not an op letter: parse as if empty
        keep = np.ones(len(values), dtype=bool)
        keep[offsets[:-1][star]] = False
        values = values[keep]
        offsets = offsets - np.concatenate([[0], np.cumsum(star)])
    is_digit = (values >= _ZERO) & (values <= _NINE)
    letter_at = np.flatnonzero(~is_digit)
    codes = _CODE_OF_LETTER[values[letter_at]]
    record_of_letter = np.searchsorted(offsets, letter_at, side="right") - 1
    _check_letters(codes, letter_at, record_of_letter, offsets, values, cigar, valid)
    # Digits belong to the next letter; the digit just before a letter is its units.
    op_of_byte = np.searchsorted(letter_at, np.arange(len(values)), side="left")
    digit_at = np.flatnonzero(is_digit)
    op_of_digit = op_of_byte[digit_at]
    place = letter_at[np.minimum(op_of_digit, max(len(letter_at) - 1, 0))] - 1 - digit_at
    weights = (values[digit_at] - _ZERO).astype(np.float64) * 10.0 ** np.minimum(place, 18)
    lengths = np.bincount(op_of_digit, weights=weights, minlength=len(letter_at))[: len(letter_at)]
    digits_per_op = np.bincount(op_of_digit, minlength=len(letter_at))[: len(letter_at)]
    _check_lengths(lengths, digits_per_op, record_of_letter, cigar)
    ops = (lengths.astype(np.uint32) << CIGAR_OP_SHIFT) | codes.astype(np.uint32)
    op_offsets = np.searchsorted(letter_at, offsets, side="left").astype(np.int64)
    return ops, op_offsets


def _check_letters(codes, letter_at, record_of_letter, offsets, values, cigar, valid) -> None:
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        record = int(record_of_letter[bad[0]])
        raise encode_error(record, f"CIGAR {cigar[record].as_py()!r} has {chr(values[letter_at[bad[0]]])!r}, "
                           f"not one of {CIGAR_OPS}")
    # Every record's text must end with a letter (no dangling digits).
    ends = offsets[1:] - 1
    nonempty = np.flatnonzero(offsets[1:] > offsets[:-1])
    dangling = nonempty[~np.isin(ends[nonempty], letter_at)]
    if dangling.size:
        record = int(dangling[0])
        raise encode_error(record, f"CIGAR {cigar[record].as_py()!r} ends with a number, not an op")


def _check_lengths(lengths, digits_per_op, record_of_letter, cigar) -> None:
    bad = np.flatnonzero((digits_per_op == 0) | (lengths > MAX_OP_LENGTH))
    if bad.size:
        record = int(record_of_letter[bad[0]])
        raise encode_error(record, f"CIGAR {cigar[record].as_py()!r}: an op without a length, or longer "
                           f"than {MAX_OP_LENGTH}")


def encode_cigars(cigar: pa.Array, l_seq: np.ndarray) -> EncodedCigars:
    """The stored ops of every record, with SAMv1 §4.2.2 placeholders for long CIGARs."""
    ops, offsets = parse_cigar_ops(cigar)
    codes, lengths = ops & 0xF, (ops >> CIGAR_OP_SHIFT).astype(np.int64)
    running = np.zeros(len(ops) + 1, dtype=np.int64)
    np.cumsum(np.where(CIGAR_CONSUMES_REF[codes], lengths, 0), out=running[1:])
    reference_length = running[offsets[1:]] - running[offsets[:-1]]
    counts = np.diff(offsets)
    long_records = np.flatnonzero(counts > MAX_STORED_CIGAR_OPS)
    empty = np.zeros(0, dtype=np.uint32)
    if long_records.size == 0:
        return EncodedCigars(ops, offsets, reference_length, long_records, empty, np.zeros(1, dtype=np.int64))
    keep = np.ones(len(ops), dtype=bool)
    long_mask = np.repeat(counts > MAX_STORED_CIGAR_OPS, counts)
    long_ops = ops[long_mask]
    long_offsets = np.concatenate([[0], np.cumsum(counts[long_records])]).astype(np.int64)
    keep[long_mask] = False
    # Two placeholder ops replace each long CIGAR, inserted where its ops were.
    placeholders = np.empty((len(long_records), 2), dtype=np.uint32)
    placeholders[:, 0] = (l_seq[long_records].astype(np.uint32) << CIGAR_OP_SHIFT) | _SOFT_CLIP
    placeholders[:, 1] = (reference_length[long_records].astype(np.uint32) << CIGAR_OP_SHIFT) | _REF_SKIP
    new_counts = counts.copy()
    new_counts[long_records] = 2
    new_offsets = np.concatenate([[0], np.cumsum(new_counts)]).astype(np.int64)
    stored = np.empty(int(new_offsets[-1]), dtype=np.uint32)
    is_long = np.zeros(len(counts), dtype=bool)
    is_long[long_records] = True
    short_slots = np.repeat(~is_long, new_counts)
    stored[short_slots] = ops[keep]
    stored[~short_slots] = placeholders.reshape(-1)
    return EncodedCigars(stored, new_offsets, reference_length, long_records, long_ops, long_offsets)
