"""CRAM records decoded by htslib and handed to the BAM decoder in bulk: no Python per record.

:func:`iter_record_runs` drives the compiled read loop (:mod:`.record_kernel`): htslib
decodes, the loop writes each record in BAM's layout into a buffer of about ``chunk_bytes``,
and every full buffer becomes one Arrow batch through :func:`~sparkbam_py.bam.decode.decode_records`,
the same decoder BAM files go through, so CRAM and BAM columns agree by construction.
Used where the compiled kernels are (``sparkbam_py.kernels``); elsewhere :mod:`.decode`
formats SAM lines through pysam, with the same columns.
"""
from __future__ import annotations

import ctypes
from typing import Iterator, Optional, Tuple

import numpy as np

from ..errors import CorruptRecordError
from .htslib import BAM1_T_SIZE, HtsCramFile

# BAM bytes per batch: the BAM walk's chunk size (bam/walk.py), ~3,500 short reads.
CHUNK_BYTES = 1 << 20
SMALLEST_RECORD = 36  # SAMv1 §4.2: block_size and the fixed fields


class HtslibReadError(OSError):
    """``sam_read1`` failed: htslib could not decode a record of the stream."""


def iter_record_runs(cram: HtsCramFile, path: Optional[str], max_records: int, chunk_bytes: int = CHUNK_BYTES
                     ) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """``(data, offsets)`` pairs of at most ``max_records`` records and about ``chunk_bytes``:
    BAM records back to back in ``data`` (each pair owns its buffer), ``offsets`` where each starts.  Raises :class:`HtslibReadError` when htslib fails,
    :class:`CorruptRecordError` for a record BAM's 32-bit fields cannot hold."""
    from . import record_kernel as kernel  # noqa: PLC0415 (imports numba: compiled path only)

    core = np.ctypeslib.as_array((ctypes.c_uint8 * BAM1_T_SIZE).from_address(cram.record))
    size, pending, decoded = chunk_bytes, False, 0
    while True:
        out = np.empty(size, dtype=np.uint8)
        offsets = np.empty(max(1, min(max_records, size // SMALLEST_RECORD + 1)), dtype=np.int64)
        count, written, status, result = kernel.read_records_kernel(
            cram.fp, cram.header, cram.record, core, out, offsets, pending)
        decoded += count
        if count:
            yield out[:written], offsets[:count]
        pending = status == kernel.OUT_FULL
        # A record bigger than the buffer: the next buffer holds it whole.
        size = max(chunk_bytes, int(kernel.record_bytes(core))) if pending and not count else chunk_bytes
        if status == kernel.AT_END:
            return
        if status == kernel.FAILED:
            raise HtslibReadError(f"sam_read1 returned {result} after {decoded} records")
        if status == kernel.OUT_OF_RANGE:
            raise CorruptRecordError(f"record {decoded + 1} of the range has a position or template length "
                                     "beyond BAM's 32-bit fields", path)
