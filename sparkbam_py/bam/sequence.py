"""Sequence and base-quality columns, decoded for all records at once.

SAMv1 §4.2: ``seq`` packs two bases per byte, high nibble first, as indexes into
``=ACMGRSVTWYHKDBN``; ``qual`` holds one Phred score per base, or 0xFF in every byte when
the qualities are absent.  SAM text (SAMv1 §1.4) prints qualities as Phred + 33.

The compiled kernels (see :mod:`.kernels`) write each record's text straight into the
column's buffer; the numpy path gathers the packed bytes first, then translates them.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..kernels import compiled
from .layout import MISSING_QUALITY, SEQ_CODES
from .prefault import populated_empty
from .ragged import Ragged, string_array, take_byte_ranges
from .spans import MalformedRecord, RecordSpans

# SAMv1 §1.4 QUAL: printed as the Phred score plus 33 (ASCII '!' is quality 0).
PHRED_OFFSET = 33
# SAMv1 §1.4: QUAL characters run from '!' to '~', so Phred scores 0..93.
MAX_PRINTABLE_QUALITY = ord("~") - PHRED_OFFSET


def _base_pair_table() -> np.ndarray:
    """For each packed byte, its two bases as one little-endian uint16 (first base low)."""
    codes = np.frombuffer(SEQ_CODES.encode("ascii"), dtype=np.uint8)
    packed = np.arange(256)
    pairs = np.stack([codes[packed >> 4], codes[packed & 0xF]], axis=1)
    return np.ascontiguousarray(pairs).view("<u2").reshape(256)


# One lookup per packed byte (two bases) instead of one per base.
_BASE_PAIRS = _base_pair_table()
# numpy widens lookup indexes to int64 first; in chunks of this many bytes that temporary
# stays in cache, which makes the lookup about twice as fast as in one go.
_LOOKUP_CHUNK = 1 << 18


def _decode_bases(packed: np.ndarray) -> np.ndarray:
    """Two base letters per packed byte."""
    pairs = np.empty(len(packed), dtype="<u2")
    for begin in range(0, len(packed), _LOOKUP_CHUNK):
        chunk = slice(begin, begin + _LOOKUP_CHUNK)
        np.take(_BASE_PAIRS, packed[chunk], out=pairs[chunk])
    return pairs.view(np.uint8)


def decode_query_sequence(data: np.ndarray, spans: RecordSpans) -> pa.StringArray:
    """``query_sequence``: the bases as text; null where the record stores none (l_seq 0)."""
    l_seq = spans.l_seq
    kernel = compiled(sequence_kernel)
    if kernel is not None:
        offsets = _offsets_of(l_seq)
        text = populated_empty(int(offsets[-1]))
        kernel(data, spans.seq_start, l_seq, _BASE_PAIRS, offsets, text)
        return string_array(Ragged(text, offsets), valid=l_seq > 0)
    packed = take_byte_ranges(data, spans.seq_start, (l_seq + 1) // 2)
    bases = _decode_bases(packed.values)
    # Each record's text starts at twice its packed offset; an odd length leaves one
    # padding base after it, which has to be squeezed out.
    starts = 2 * packed.offsets
    if np.any(l_seq % 2):
        text = take_byte_ranges(bases, starts[:-1], l_seq)
    else:
        text = Ragged(bases, starts)
    return string_array(text, valid=l_seq > 0)


def qualities_present(data: np.ndarray, spans: RecordSpans) -> np.ndarray:
    """True for records that have a sequence whose first quality byte is not 0xFF."""
    has_sequence = spans.l_seq > 0
    first_quality = data[np.where(has_sequence, spans.qual_start, 0)]
    return has_sequence & (first_quality != MISSING_QUALITY)


def decode_query_qualities(data: np.ndarray, spans: RecordSpans) -> pa.StringArray:
    """``query_qualities`` as Phred+33 text (SAM's QUAL); null where absent.

    A score above 93 has no SAM text (SAMv1 §1.4: QUAL is ``[!-~]``): it would print past
    '~', as bytes that are not UTF-8 or, above 222, wrap around to control characters.  Such
    a record is refused (:class:`MalformedRecord`) rather than shown changed.
    """
    present = qualities_present(data, spans)
    lengths = np.where(present, spans.l_seq, 0)
    kernel = compiled(qualities_kernel)
    if kernel is not None:
        offsets = _offsets_of(lengths)
        text = populated_empty(int(offsets[-1]))
        highest = kernel(data, spans.qual_start, offsets, text)
        if highest > MAX_PRINTABLE_QUALITY:
            _refuse_unprintable(np.diff(offsets), text - np.uint8(PHRED_OFFSET))
        return string_array(Ragged(text, offsets), valid=present)
    raw = take_byte_ranges(data, spans.qual_start, lengths)
    if len(raw.values) and int(raw.values.max()) > MAX_PRINTABLE_QUALITY:
        _refuse_unprintable(lengths, raw.values)
    return string_array(Ragged(raw.values + np.uint8(PHRED_OFFSET), raw.offsets), valid=present)


def _refuse_unprintable(lengths: np.ndarray, scores: np.ndarray) -> None:
    """Raise :class:`MalformedRecord` for the first record with a score above 93."""
    where = int(np.flatnonzero(scores > MAX_PRINTABLE_QUALITY)[0])
    ends = np.cumsum(lengths)
    record = int(np.searchsorted(ends, where, side="right"))
    base = where - (int(ends[record - 1]) if record else 0)
    raise MalformedRecord(f"quality score {int(scores[where])} at base {base} is above "
                          f"{MAX_PRINTABLE_QUALITY}, the highest SAM text can hold (SAMv1 §1.4)", record)


def _offsets_of(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def sequence_kernel(data, seq_start, l_seq, base_pairs, offsets, text):
    """Each record's bases as letters at ``offsets`` (numba-compiled; see :mod:`.kernels`):
    one table lookup per packed byte gives its two letters."""
    for record in range(len(l_seq)):
        full = l_seq[record] // 2
        # Local views let the compiler keep the loop tight.
        packed = data[seq_start[record] : seq_start[record] + full + 1]
        letters = text[offsets[record] : offsets[record + 1]]
        for k in range(full):
            pair = base_pairs[packed[k]]
            letters[2 * k] = np.uint8(pair & 0xFF)
            letters[2 * k + 1] = np.uint8(pair >> 8)
        if l_seq[record] % 2:
            letters[2 * full] = np.uint8(base_pairs[packed[full]] & 0xFF)


def qualities_kernel(data, qual_start, offsets, text):
    """Each record's scores + 33 at ``offsets`` (numba-compiled; see
    :mod:`sparkbam_py.kernels`); returns the highest score, for the caller's check."""
    phred_offset = np.uint8(33)  # SAMv1 §1.4: Phred + 33, wrapping like numpy's uint8
    highest = np.uint8(0)
    for record in range(len(offsets) - 1):
        size = offsets[record + 1] - offsets[record]
        # Local views and uint8 arithmetic let the compiler vectorise the loop.
        scores = data[qual_start[record] : qual_start[record] + size]
        letters = text[offsets[record] : offsets[record + 1]]
        for k in range(size):
            letters[k] = scores[k] + phred_offset
            highest = max(highest, scores[k])
    return highest
