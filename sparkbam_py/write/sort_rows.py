"""The compact rows a coordinate sort shuffles: a key, a tie-breaker, the end, the record.

``write_bam(sort=True)`` encodes each row once, before the shuffle, into four columns: the
64-bit sort key, the row's place in the input, the record's reference end (for the index),
and the record's bytes with the output header's reference ids already set.  Spark then
range-partitions and sorts on two longs (its radix sort on the key's prefix) and moves one
binary value per read, not thirteen columns of text; the write task copies the bytes into
blocks without encoding anything.

The order is samtools sort's (``bam1_cmp_core`` in bam_sort.c): reference id as unsigned (so
reads with none, id -1, come last), then position + 1, then the reverse-strand flag; reads
equal on all three keep their input order, as samtools' stable merge keeps them.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

from ..bam.layout import FLAG_UNMAPPED, OFF_FLAG, OFF_POS, OFF_REF_ID
from ..arrow_buffers import text_buffers
from .encode import EncodedRecords

SORT_KEY = "_sparkbam_key"
SORT_SEQUENCE = "_sparkbam_sequence"
SORT_END = "_sparkbam_end"
SORT_RECORD = "_sparkbam_record"
SORT_ROWS_SCHEMA = pa.schema([pa.field(SORT_KEY, pa.int64(), False), pa.field(SORT_SEQUENCE, pa.int64(), False),
                              pa.field(SORT_END, pa.int64(), False), pa.field(SORT_RECORD, pa.binary(), False)])
SORT_ROWS_DDL = f"{SORT_KEY} bigint, {SORT_SEQUENCE} bigint, {SORT_END} bigint, {SORT_RECORD} binary"
# SAMv1 §4.2 FLAG bit 0x10: SEQ is reverse complemented.
_FLAG_REVERSE = 0x10
# A reference id of -1 sorts after every real one; 2^31 - 1 is above any id a header can have.
_NO_REFERENCE_KEY = 2**31 - 1
# The sequence number: the input partition in the high bits, the row within it below.
_ROW_BITS = 40


def coordinate_keys(ref_id: np.ndarray, pos: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """samtools' coordinate order as one int64: reference, position + 1, reverse strand."""
    reference = np.where(ref_id < 0, _NO_REFERENCE_KEY, ref_id).astype(np.int64)
    reverse = (flag & _FLAG_REVERSE) != 0
    return (reference << 32) | ((pos.astype(np.int64) + 1) << 1) | reverse.astype(np.int64)


def record_keys(records: EncodedRecords) -> np.ndarray:
    """:func:`coordinate_keys` of encoded records (the flag read from their bytes)."""
    flag = _field(records.data, records.offsets[:-1] + OFF_FLAG, "<u2")
    return coordinate_keys(records.ref_id, records.pos, flag)


def sequence_numbers(partition: int, first_row: int, count: int) -> np.ndarray:
    """The input places of ``count`` rows of input ``partition`` from its ``first_row``-th."""
    return (np.int64(partition) << _ROW_BITS) + first_row + np.arange(count, dtype=np.int64)


def sort_rows(records: EncodedRecords, partition: int, first_row: int) -> pa.RecordBatch:
    """The compact rows of one encoded batch, the ``first_row``-th row of input ``partition`` first."""
    keys = record_keys(records)
    sequence = sequence_numbers(partition, first_row, len(records))
    offsets = records.offsets
    if offsets[-1] >= 2**31:
        raise ValueError("a batch of more than 2 GiB of records cannot be one binary column")
    record_bytes = pa.BinaryArray.from_buffers(pa.binary(), len(records), [
        None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(np.ascontiguousarray(records.data))])
    return pa.RecordBatch.from_arrays([pa.array(keys), pa.array(sequence), pa.array(records.end), record_bytes],
                                      schema=SORT_ROWS_SCHEMA)


def records_of_sort_rows(batch: pa.RecordBatch) -> EncodedRecords:
    """The records of sorted compact rows, ready to write (they were checked when encoded)."""
    data, offsets, _ = text_buffers(batch.column(SORT_RECORD))
    return encoded_records(data, offsets, batch.column(SORT_END).to_numpy(zero_copy_only=False))


def encoded_records(data: np.ndarray, offsets: np.ndarray, end: np.ndarray) -> EncodedRecords:
    """Checked records back to back (``data``, ``offsets``) and their ends, with the fixed
    fields the part writer and the indexes read."""
    starts = offsets[:-1]
    ref_id = _field(data, starts + OFF_REF_ID, "<i4")
    pos = _field(data, starts + OFF_POS, "<i4").astype(np.int64)
    flag = _field(data, starts + OFF_FLAG, "<u2")
    return EncodedRecords(data, offsets, ref_id, pos, end.astype(np.int64), (flag & FLAG_UNMAPPED) != 0)


def _field(data: np.ndarray, positions: np.ndarray, dtype: str) -> np.ndarray:
    width = np.dtype(dtype).itemsize
    return np.ascontiguousarray(data[positions[:, None] + np.arange(width)]).view(dtype).reshape(-1)


def to_sort_rows(batches: Iterator[pa.RecordBatch], encode, partition: int) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: each batch encoded (``encode(batch)`` -> EncodedRecords) to compact rows."""
    row = 0
    for batch in batches:
        if batch.num_rows:
            records = encode(batch)
            yield sort_rows(records, partition, row)
            row += batch.num_rows
