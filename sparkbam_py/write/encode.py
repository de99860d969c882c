"""Arrow rows of the read schema to BAM records (SAMv1 §4.2), vectorised over records.

Every section of every record (fixed fields, name, CIGAR, packed sequence, qualities, tags,
and a CG tag for CIGARs of more than 65,535 ops) is built for the whole batch with numpy or
Arrow kernels; the records are then assembled from those sections with one Arrow ``take``
(:func:`~sparkbam_py.bam.ragged.pick_ragged`).  Missing optional columns take SAM's
"unavailable" values: name ``*``, flag 0, no reference, position -1 (SAM's 0), MAPQ 0,
no CIGAR, no sequence or qualities, no tags.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..bam.layout import (
    BLOCK_SIZE_BYTES,
    CG_TAG,
    FIXED_FIELDS_DTYPE,
    FIXED_FIELDS_SIZE,
    FLAG_UNMAPPED,
    MISSING_QUALITY,
    SEQ_CODES,
)
from ..bam.ragged import Ragged, pick_ragged, take_byte_ranges
from ..bam.sequence import PHRED_OFFSET
from ..arrow_buffers import combined, text_buffers
from .cigar_encode import EncodedCigars, encode_cigars
from .errors import HeaderMismatchError, encode_error
from .tag_encode import encode_tags

# SAMv1 §1.4: QNAME is at most 254 characters (l_read_name, with its NUL, is a uint8).
MAX_NAME_LENGTH = 254
# htslib's seq_nt16_table: IUPAC letters (either case) to 4-bit codes; anything else is N.
_BASE_CODES = np.full(256, SEQ_CODES.index("N"), dtype=np.uint8)
for _code, _letter in enumerate(SEQ_CODES):
    _BASE_CODES[ord(_letter)] = _code
    _BASE_CODES[ord(_letter.lower())] = _code
# SAMv1 §4.2.3 bins: 16 kbp leaves, 5 levels below the root; records past 2^29 get 4680,
# the bin htslib gives unplaced reads (reg2bin(-1, 0)), as the 16-bit field cannot hold theirs.
_BIN_MIN_SHIFT, _BIN_DEPTH, _BIN_LIMIT = 14, 5, 1 << 29
_UNPLACED_BIN = 4680


@dataclass(frozen=True)
class EncodedRecords:
    """A batch's records back to back, and what the indexes need of each."""

    data: np.ndarray  # uint8: the records, each with its block_size
    offsets: np.ndarray  # int64, n + 1: record i is data[offsets[i]:offsets[i+1]]
    ref_id: np.ndarray  # int32, -1 for no reference
    pos: np.ndarray  # int64, 0-based, -1 when unplaced
    end: np.ndarray  # int64: pos + reference length, at least pos + 1 (htslib bam_endpos)
    unmapped: np.ndarray  # bool: flag 0x4

    def __len__(self) -> int:
        return len(self.ref_id)


def reg2bin_array(beg: np.ndarray, end: np.ndarray, min_shift: int = _BIN_MIN_SHIFT,
                  depth: int = _BIN_DEPTH) -> np.ndarray:
    """SAMv1 §5.3 ``reg2bin`` for many ``[beg, end)`` at once (int64)."""
    last = end - 1
    bins = np.zeros(len(beg), dtype=np.int64)
    done = np.zeros(len(beg), dtype=bool)
    for level in range(depth, 0, -1):
        shift = min_shift + 3 * (depth - level)
        here = ~done & ((beg >> shift) == (last >> shift))
        bins[here] = ((1 << (3 * level)) - 1) // 7 + (beg[here] >> shift)
        done |= here
    return bins


def reference_ids(names, reference_names: pa.Array, column: str) -> np.ndarray:
    """Each row's reference id (-1 for null); a name the header lacks is a clear error."""
    if names is None:
        return None
    names = combined(names)
    ids = pc.index_in(names, value_set=reference_names)
    missing = pc.and_(pc.is_null(ids), pc.is_valid(names))
    if pc.any(missing).as_py():
        unknown = sorted(set(pc.filter(names, missing).to_pylist()))
        raise HeaderMismatchError(
            f"{column} names contig(s) the header lacks: {', '.join(map(repr, unknown[:10]))}"
            + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))
    return pc.fill_null(ids, -1).to_numpy(zero_copy_only=False).astype(np.int32)


def _int_column(batch: pa.RecordBatch, name: str, default: int, low: int, high: int) -> np.ndarray:
    if name not in batch.schema.names:
        return np.full(batch.num_rows, default, dtype=np.int64)
    column = combined(batch.column(name))
    values = pc.fill_null(column, default).to_numpy(zero_copy_only=False).astype(np.int64)
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        raise encode_error(int(bad[0]), f"{name} = {int(values[bad[0]])} is outside {low}..{high}")
    return values


def _column(batch: pa.RecordBatch, name: str):
    return batch.column(name) if name in batch.schema.names else None


def encode_batch(batch: pa.RecordBatch, reference_names: pa.Array) -> EncodedRecords:
    """BAM records for every row of ``batch`` (any subset of the read schema's columns).

    ``reference_names`` are the header's references, in order (a pyarrow string array).
    """
    n = batch.num_rows
    ref_id = reference_ids(_column(batch, "reference_name"), reference_names, "reference_name")
    next_ref_id = reference_ids(_column(batch, "next_reference_name"), reference_names, "next_reference_name")
    ref_id = np.full(n, -1, np.int32) if ref_id is None else ref_id
    next_ref_id = np.full(n, -1, np.int32) if next_ref_id is None else next_ref_id
    flag = _int_column(batch, "flag", 0, 0, 0xFFFF)
    pos = _int_column(batch, "reference_start", -1, -(2**31), 2**31 - 2)
    sequence = _sequence_section(_column(batch, "query_sequence"), n)
    l_seq = np.diff(sequence.offsets)
    quality = _quality_section(_column(batch, "query_qualities"), l_seq)
    cigars = encode_cigars(_column(batch, "cigar") if "cigar" in batch.schema.names else pa.nulls(n, pa.string()),
                           l_seq)
    names = _name_section(_column(batch, "query_name"), n)
    tags = encode_tags(_column(batch, "tags"), n)
    long_cigar_tags = _cg_section(cigars, n, batch)
    unmapped = (flag & FLAG_UNMAPPED) != 0
    has_ops = np.diff(cigars.offsets) > 0
    end = pos + np.where(~unmapped & has_ops, np.maximum(cigars.reference_length, 1), 1)
    bins = reg2bin_array(pos, end)
    bins[(end > _BIN_LIMIT) | (pos < 0)] = _UNPLACED_BIN
    cigar_bytes = Ragged(cigars.ops.view(np.uint8), 4 * cigars.offsets)
    sections = [names, cigar_bytes, sequence_packed(sequence), quality, tags, long_cigar_tags]
    variable = sum(np.diff(section.offsets) for section in sections) + 1  # + the name's NUL
    fixed = np.zeros(n, dtype=FIXED_FIELDS_DTYPE)
    fixed["block_size"] = FIXED_FIELDS_SIZE - BLOCK_SIZE_BYTES + variable
    fixed["ref_id"], fixed["pos"] = ref_id, pos
    fixed["l_read_name"] = np.diff(names.offsets) + 1
    fixed["mapq"] = _int_column(batch, "mapping_quality", 0, 0, 0xFF)
    fixed["bin"], fixed["n_cigar_op"], fixed["flag"] = bins, np.diff(cigars.offsets), flag
    fixed["l_seq"] = l_seq
    fixed["next_ref_id"] = next_ref_id
    fixed["next_pos"] = _int_column(batch, "next_reference_start", -1, -(2**31), 2**31 - 1)
    fixed["tlen"] = _int_column(batch, "template_length", 0, -(2**31), 2**31 - 1)
    data, offsets = _assemble(fixed, sections, n)
    return EncodedRecords(data, offsets, ref_id, pos, end, unmapped)


def _assemble(fixed: np.ndarray, sections, n: int):
    fixed_rows = Ragged(fixed.view(np.uint8), FIXED_FIELDS_SIZE * np.arange(n + 1, dtype=np.int64))
    nul = Ragged(np.zeros(1, np.uint8), np.array([0, 1], dtype=np.int64))
    names, rest = sections[0], sections[1:]
    parts = [fixed_rows, names, nul] + rest
    per_record = len(parts)
    part_index = np.tile(np.arange(per_record), n)
    item_index = np.repeat(np.arange(n), per_record)
    item_index[part_index == 2] = 0  # the one NUL, shared
    records = pick_ragged(parts, part_index, item_index)
    record_offsets = records.offsets[::per_record]
    return records.values, record_offsets


def _name_section(names, n: int) -> Ragged:
    if names is None:
        return Ragged(np.full(n, ord("*"), np.uint8), np.arange(n + 1, dtype=np.int64))
    values, offsets, valid = text_buffers(names)
    if not valid.all():
        raise encode_error(int(np.flatnonzero(~valid)[0]), "query_name is null (write '*' for no name)")
    too_long = np.flatnonzero(np.diff(offsets) > MAX_NAME_LENGTH)
    if too_long.size:
        raise encode_error(int(too_long[0]), f"query_name longer than {MAX_NAME_LENGTH} characters")
    return Ragged(values, offsets)


def _sequence_section(sequence, n: int) -> Ragged:
    """The bases as 4-bit codes, one byte each (packed later); null and "*" are empty."""
    if sequence is None:
        return Ragged(np.zeros(0, np.uint8), np.zeros(n + 1, np.int64))
    values, offsets, _ = text_buffers(sequence)
    star = (np.diff(offsets) == 1) & (values[np.minimum(offsets[:-1], max(len(values) - 1, 0))] == ord("*")) \
        if len(values) else np.zeros(n, dtype=bool)
    if star.any():
        values, offsets = _drop_items(values, offsets, star)
    return Ragged(_BASE_CODES[values], offsets)


def _drop_items(values: np.ndarray, offsets: np.ndarray, dropped: np.ndarray):
    lengths = np.where(dropped, 0, np.diff(offsets))
    kept = take_byte_ranges(values, offsets[:-1], lengths)
    return kept.values, kept.offsets


def sequence_packed(codes: Ragged) -> Ragged:
    """Two bases per byte, high nibble first; an odd-length sequence ends with a 0 nibble."""
    l_seq = np.diff(codes.offsets)
    odd = (l_seq % 2).astype(bool)
    values = codes.values
    if odd.any():
        # Each odd sequence gets one padding code after it: pieces [bases, pad] per record.
        source = np.concatenate([values, np.zeros(1, np.uint8)])
        n = len(l_seq)
        starts = np.concatenate([codes.offsets[:-1], [len(values)]])
        lengths = np.concatenate([l_seq, [1]])
        order = np.stack([np.arange(n), np.full(n, n)], axis=1)
        keep = np.stack([np.ones(n, bool), odd], axis=1)
        values = take_byte_ranges(source, starts, lengths, order=order[keep]).values
    pairs = values.reshape(-1, 2)
    packed = (pairs[:, 0] << 4) | pairs[:, 1]
    return Ragged(packed, (codes.offsets + np.cumsum(np.concatenate([[0], odd]))) // 2)


def _quality_section(qualities, l_seq: np.ndarray) -> Ragged:
    """Phred scores (text minus 33); 0xFF for every base where the qualities are absent."""
    offsets = np.concatenate([[0], np.cumsum(l_seq)]).astype(np.int64)
    if qualities is None:
        return Ragged(np.full(int(offsets[-1]), MISSING_QUALITY, np.uint8), offsets)
    values, text_offsets, valid = text_buffers(qualities)
    lengths = np.diff(text_offsets)
    star = valid & (lengths == 1) & (values[np.minimum(text_offsets[:-1], max(len(values) - 1, 0))] == ord("*")) \
        if len(values) else np.zeros(len(l_seq), bool)
    present = valid & ~star & (lengths > 0)
    bad = np.flatnonzero(present & (lengths != l_seq))
    if bad.size:
        row = int(bad[0])
        raise encode_error(row, f"{int(lengths[row])} qualities for {int(l_seq[row])} bases")
    scores = values - np.uint8(PHRED_OFFSET)
    if present.all():
        return Ragged(scores, offsets)
    source = np.concatenate([scores, np.full(int(offsets[-1]), MISSING_QUALITY, np.uint8)])
    starts = np.where(present, text_offsets[:-1], len(scores) + offsets[:-1])
    order = np.argsort(starts, kind="stable")
    picked = take_byte_ranges(source, starts[order], np.where(present, lengths, l_seq)[order],
                              order=np.argsort(order, kind="stable"))
    return Ragged(picked.values, offsets)


def _cg_section(cigars: EncodedCigars, n: int, batch: pa.RecordBatch) -> Ragged:
    """Per record: a ``CG:B,I`` tag with the real ops when its CIGAR is long, else nothing."""
    long_records = cigars.long_records
    if long_records.size == 0:
        return Ragged(np.zeros(0, np.uint8), np.zeros(n + 1, np.int64))
    _refuse_second_cg(batch, long_records)
    counts = np.diff(cigars.long_offsets)
    headers = np.zeros((len(long_records), 8), dtype=np.uint8)
    headers[:, 0], headers[:, 1], headers[:, 2], headers[:, 3] = CG_TAG[0], CG_TAG[1], ord("B"), ord("I")
    headers[:, 4:8] = counts.astype("<u4").view(np.uint8).reshape(-1, 4)
    header_items = Ragged(headers.reshape(-1), 8 * np.arange(len(long_records) + 1, dtype=np.int64))
    op_items = Ragged(cigars.long_ops.view(np.uint8), 4 * cigars.long_offsets)
    k = len(long_records)
    tags = pick_ragged([header_items, op_items], np.tile([0, 1], k), np.repeat(np.arange(k), 2))
    sizes = np.zeros(n, dtype=np.int64)
    sizes[long_records] = 8 + 4 * counts
    return Ragged(tags.values, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))


def _refuse_second_cg(batch: pa.RecordBatch, long_records: np.ndarray) -> None:
    tags = _column(batch, "tags")
    if tags is None:
        return
    tags = combined(tags)
    keys = pc.list_value_length(pc.map_lookup(tags.take(pa.array(long_records)), "CG", "all"))
    has_cg = np.flatnonzero(pc.fill_null(keys, 0).to_numpy(zero_copy_only=False) > 0)
    if has_cg.size:
        raise encode_error(int(long_records[has_cg[0]]),
                           "CIGAR has more than 65535 ops and a CG tag already: the ops would go to CG")
