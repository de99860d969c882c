"""Whole BAM records as an Arrow ``binary`` column: each item one record exactly as stored.

``spark.read.format("bam").schema("reference_name string, next_reference_name string,
record binary")`` reads each record's bytes (SAMv1 §4.2, from ``block_size`` through the last
tag) beside the decoded columns, and :func:`sparkbam_py.write_bam` writes them back
unchanged: no decode to text and re-encode, so tags keep their integer widths and floats
their bits, at the cost of an inflate and a copy.  The reference ids inside the bytes name
the source file's references; the writer sets them again from the two name columns (see
:mod:`sparkbam_py.write.records`), so records of files with different dictionaries, or a
header with another order, are never mislabelled.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .layout import BLOCK_SIZE_BYTES, OFF_BLOCK_SIZE
from .ragged import take_byte_ranges

RECORD = "record"
RECORD_TYPE = pa.binary()
# Arrow's binary type has int32 offsets: one batch's records must stay under 2 GiB.
_MAX_COLUMN_BYTES = 2**31 - 1


def record_sizes(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each record's size in bytes, block_size field included (int64)."""
    starts = np.asarray(starts, dtype=np.int64)
    index = starts[:, None] + OFF_BLOCK_SIZE + np.arange(BLOCK_SIZE_BYTES)
    block_size = np.ascontiguousarray(data[index]).view("<i4").reshape(-1)
    return block_size.astype(np.int64) + BLOCK_SIZE_BYTES


def record_column(data: np.ndarray, starts: np.ndarray) -> pa.BinaryArray:
    """The records starting at ``starts`` in the inflated ``data`` (already framed by the
    walk, so every record lies whole inside ``data``), copied into one binary column."""
    ragged = take_byte_ranges(data, starts, record_sizes(data, starts))
    if ragged.offsets[-1] > _MAX_COLUMN_BYTES:
        raise ValueError(f"{int(ragged.offsets[-1])} bytes of records exceed one binary column's 2 GiB")
    return pa.BinaryArray.from_buffers(RECORD_TYPE, len(ragged.offsets) - 1,
                                       [None, pa.py_buffer(ragged.offsets.astype(np.int32)),
                                        pa.py_buffer(ragged.values)])
