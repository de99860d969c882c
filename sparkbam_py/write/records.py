"""A batch's BAM records, from the decoded columns or from the ``record`` column.

:func:`records_of_batch` is what a write task calls per batch.  Decoded columns are encoded
(:mod:`.encode`); a ``record`` column (:mod:`sparkbam_py.bam.record_column`) is taken as is,
after three things that keep it honest:

* its reference ids are set again from ``reference_name`` and ``next_reference_name``, which
  must come with it: the ids in the bytes count in the *source* file's dictionary, and the
  output header may order references differently, or the rows may come from files with
  different dictionaries;
* every record is checked whole (framing, field lengths: the reader's own checks), so bytes
  from anywhere become a typed error, never a corrupt BAM;
* scalar columns beside it (``flag``, ``mapping_quality``...) must agree with the bytes: a row
  whose column was changed would otherwise be written unchanged, silently.  Text columns
  (``cigar``, ``tags``...) cannot be checked cheaply and are refused with the record.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from ..bam.decode import decode_records
from ..bam.layout import BLOCK_SIZE_BYTES, FIXED_FIELDS_SIZE, FLAG_UNMAPPED, OFF_NEXT_REF_ID, OFF_REF_ID
from ..bam.record_column import RECORD
from ..bam.schema import COLUMNS
from ..errors import ConfigError, CorruptRecordError
from ..arrow_buffers import text_buffers
from .encode import EncodedRecords, encode_batch, reference_ids
from .errors import RecordEncodeError, encode_error
from .sort_rows import SORT_RECORD, records_of_sort_rows

NAME_COLUMNS = ("reference_name", "next_reference_name")
# Scalar columns checked against the record's bytes, by the decoder's column of the same name.
CHECKED_COLUMNS = ("flag", "reference_start", "mapping_quality", "next_reference_start", "template_length")
_DECODED = ("flag", "reference_start", "reference_end") + CHECKED_COLUMNS[2:]


def records_of_batch(batch: pa.RecordBatch, reference_names: pa.Array) -> EncodedRecords:
    """The batch's records: encoded from its columns, or taken from its ``record`` column."""
    if SORT_RECORD in batch.schema.names:
        return records_of_sort_rows(batch)
    if RECORD in batch.schema.names:
        return records_from_column(batch, reference_names)
    return encode_batch(batch, reference_names)


def check_record_columns(names: Sequence[str]) -> None:
    """Refuse a schema whose ``record`` column comes without the name columns, or with text
    columns that could disagree with it unseen (run on the driver, before any task)."""
    if RECORD not in names:
        return
    missing = [name for name in NAME_COLUMNS if name not in names]
    if missing:
        raise ConfigError(f"a {RECORD} column needs {' and '.join(missing)} beside it: the reference ids in "
                          f"the bytes count in the source file's header, the names say which reference is meant")
    unchecked = [name for name in names if name in COLUMNS and name not in NAME_COLUMNS + CHECKED_COLUMNS
                 and name != "reference_end"]
    if unchecked:
        raise ConfigError(f"the {RECORD} column is written as is, so {', '.join(unchecked)} would be ignored: "
                          f"drop them (or drop {RECORD} to write the decoded columns)")


def records_from_column(batch: pa.RecordBatch, reference_names: pa.Array) -> EncodedRecords:
    """The ``record`` column's records, ids set from the names, checked (see the module)."""
    names = batch.schema.names
    check_record_columns(names)
    values, offsets, valid = text_buffers(batch.column(RECORD))
    if not valid.all():
        raise encode_error(int(np.flatnonzero(~valid)[0]), f"{RECORD} is null")
    data = values.copy()  # writable: the reference ids are set below
    starts = offsets[:-1]
    _check_framing(data, starts, np.diff(offsets))
    ref_id = reference_ids(batch.column("reference_name"), reference_names, "reference_name")
    next_ref_id = reference_ids(batch.column("next_reference_name"), reference_names, "next_reference_name")
    _set_int32(data, starts + OFF_REF_ID, ref_id)
    _set_int32(data, starts + OFF_NEXT_REF_ID, next_ref_id)
    try:
        decoded = decode_records(data, starts, reference_names, _DECODED)
    except CorruptRecordError as error:  # its detail names the row: "record i of the batch"
        raise RecordEncodeError(f"a {RECORD} is not a valid BAM record: {error.detail}") from None
    _check_columns_agree(batch, decoded)
    flag = decoded.column("flag").to_numpy()
    pos = decoded.column("reference_start").to_numpy().astype(np.int64)
    unmapped = (flag & FLAG_UNMAPPED) != 0
    return EncodedRecords(data, offsets, ref_id, pos, record_ends(decoded, pos, unmapped), unmapped)


def record_ends(decoded: pa.RecordBatch, pos: np.ndarray, unmapped: np.ndarray) -> np.ndarray:
    """htslib's ``bam_endpos``: start + reference length, at least start + 1; start + 1 when
    unmapped or without a CIGAR (as :func:`.encode.encode_batch` computes it)."""
    reference_end = decoded.column("reference_end")
    has_end = ~unmapped & reference_end.is_valid().to_numpy(zero_copy_only=False)
    ends = reference_end.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(has_end, np.maximum(ends, pos + 1), pos + 1)


def _check_framing(data: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> None:
    short = np.flatnonzero(sizes < FIXED_FIELDS_SIZE)
    if short.size:
        raise encode_error(int(short[0]), f"{RECORD} of {int(sizes[short[0]])} bytes is shorter than a "
                                          f"record's {FIXED_FIELDS_SIZE} fixed bytes")
    block_size = _int32_at(data, starts)
    wrong = np.flatnonzero(block_size != sizes - BLOCK_SIZE_BYTES)
    if wrong.size:
        row = int(wrong[0])
        raise encode_error(row, f"{RECORD} holds {int(sizes[row])} bytes but its block_size says "
                                f"{int(block_size[row]) + BLOCK_SIZE_BYTES}")


def _check_columns_agree(batch: pa.RecordBatch, decoded: pa.RecordBatch) -> None:
    for name in CHECKED_COLUMNS:
        if name not in batch.schema.names:
            continue
        given = batch.column(name).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        stored = decoded.column(name).to_numpy(zero_copy_only=False).astype(np.int64)
        differ = np.flatnonzero(given != stored)
        if differ.size:
            row = int(differ[0])
            raise encode_error(row, f"{name} is {int(given[row])} but the {RECORD} holds {int(stored[row])}: "
                                    f"a changed column is not written through {RECORD} (drop one of them)")


def _int32_at(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    index = positions[:, None] + np.arange(4)
    return np.ascontiguousarray(data[index]).view("<i4").reshape(-1)


def _set_int32(data: np.ndarray, positions: np.ndarray, values: np.ndarray) -> None:
    data[positions[:, None] + np.arange(4)] = np.asarray(values, dtype="<i4").view(np.uint8).reshape(-1, 4)
