"""The compiled CRAM read loop: htslib's ``sam_read1`` called from numba, each decoded record
written out in BAM's on-disk layout (SAMv1 §4.2), so the BAM decoder turns them into Arrow.

Imported only on the compiled path (:mod:`sparkbam_py.kernels`).  ``sam_read1`` is declared
by a name of our own, registered with LLVM from pysam's htslib (:mod:`.htslib`), so the cached
machine code holds no process-specific address.

A ``bam1_t`` holds the record almost as BAM stores it: the core fields (wider: 64-bit
positions) and ``data`` = read name (NUL-padded to a multiple of 4 by ``l_extranul`` extra
NULs), CIGAR, 4-bit sequence, qualities, tags.  Writing BAM takes the fixed fields, the name
without its padding and the rest of ``data`` as it is: two copies.  A CIGAR of more than 65,535
operations is written as htslib's ``bam_write1`` writes it (SAMv1 §4.2.2): a placeholder
``<l_seq>S<ref length>N`` and the real operations in a ``CG:B:I`` tag at the end.
"""
from __future__ import annotations

import numpy as np
from llvmlite import binding
from numba import njit, types

from ..libc import memcpy as _memcpy
from .htslib import SAM_READ1_SYMBOL, sam_read1_address

binding.add_symbol(SAM_READ1_SYMBOL, sam_read1_address())
# int sam_read1(htsFile *fp, sam_hdr_t *header, bam1_t *record): >= 0 a record, -1 the end, < -1 an error.
_sam_read1 = types.ExternalFunction(SAM_READ1_SYMBOL, types.int32(types.voidptr, types.voidptr, types.voidptr))

# Why the loop stopped.
FILLED = 0  # the offsets table is full
AT_END = 1  # sam_read1 found the end of the stream
OUT_FULL = 2  # the record just read does not fit in ``out``: it is pending for the next call
FAILED = 3  # sam_read1 failed (its return value is given)
OUT_OF_RANGE = 4  # a position or template length does not fit BAM's int32

BAM_FIXED_BYTES = 36  # SAMv1 §4.2: block_size and the 32 bytes of fixed fields
MAX_STORED_CIGAR_OPS = 0xFFFF  # n_cigar_op is a uint16
CG_TAG_HEADER_BYTES = 8  # "CG", 'B', 'I', then the int32 count
BAM_CSOFT_CLIP, BAM_CREF_SKIP = 4, 3
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


@njit(cache=True, nogil=True)
def read_records_kernel(fp, header, record, core, out, offsets, pending):
    """Read records with ``sam_read1`` and write them into ``out`` back to back.

    ``core`` is the ``bam1_t`` at ``record`` as bytes.  ``pending``: the record in ``record``
    was read by the previous call but did not fit; it is written first.  Returns
    ``(records, bytes written, status, sam_read1's last return value)``; with OUT_FULL and no
    record written, ``out`` must grow to at least ``record_bytes(core)``.
    """
    count = 0
    written = 0
    result = 0
    if pending:
        if record_bytes(core) > len(out):
            return 0, 0, OUT_FULL, result
        status = write_record(core, out, 0)
        if status != FILLED:
            return 0, 0, status, result
        offsets[0] = 0
        written = record_bytes(core)
        count = 1
    while count < len(offsets):
        result = _sam_read1(fp, header, record)
        if result == -1:
            return count, written, AT_END, result
        if result < -1:
            return count, written, FAILED, result
        size = record_bytes(core)
        if written + size > len(out):
            return count, written, OUT_FULL, result
        status = write_record(core, out, written)
        if status != FILLED:
            return count, written, status, result
        offsets[count] = written
        written += size
        count += 1
    return count, written, FILLED, result


@njit(cache=True, nogil=True, inline="always")
def _int(core, offset, width):
    # The bam1_t is in the host's byte order; numba's targets are little-endian.
    value = np.int64(0)
    for k in range(width):
        value |= np.int64(core[offset + k]) << (8 * k)
    return value


@njit(cache=True, nogil=True, inline="always")
def _signed(value, width):
    top = np.int64(1) << (8 * width - 1)
    return value - (top << 1) if value >= top else value


@njit(cache=True, nogil=True, inline="always")
def _put(out, offset, value, width):
    for k in range(width):
        out[offset + k] = (value >> (8 * k)) & 0xFF


@njit(cache=True, nogil=True)
def record_bytes(core):
    """The BAM bytes of the record in ``core``, block_size included."""
    l_extranul, n_cigar = _int(core, 15, 1), _int(core, 20, 4)
    size = BAM_FIXED_BYTES + _int(core, 64, 4) - l_extranul
    if n_cigar > MAX_STORED_CIGAR_OPS:  # two placeholder ops, and the CG tag's header (the ops move there)
        size += 8 + CG_TAG_HEADER_BYTES
    return size


@njit(cache=True, nogil=True)
def write_record(core, out, at):
    """Write the record in ``core`` as BAM at ``out[at:]``; FILLED, or OUT_OF_RANGE."""
    pos, tid, bin_, mapq = _signed(_int(core, 0, 8), 8), _int(core, 8, 4), _int(core, 12, 2), _int(core, 14, 1)
    l_extranul, flag, l_qname, n_cigar = _int(core, 15, 1), _int(core, 16, 2), _int(core, 18, 2), _int(core, 20, 4)
    l_qseq, mtid = _signed(_int(core, 24, 4), 4), _int(core, 28, 4)
    mpos, isize = _signed(_int(core, 32, 8), 8), _signed(_int(core, 40, 8), 8)
    data, l_data = _int(core, 56, 8), _int(core, 64, 4)
    for value in (pos, mpos, isize):
        if value < INT32_MIN or value > INT32_MAX:
            return OUT_OF_RANGE
    long_cigar = n_cigar > MAX_STORED_CIGAR_OPS
    _put(out, at, record_bytes(core) - 4, 4)
    _put(out, at + 4, tid, 4)
    _put(out, at + 8, pos, 4)
    _put(out, at + 12, l_qname - l_extranul, 1)
    _put(out, at + 13, mapq, 1)
    _put(out, at + 14, bin_, 2)
    _put(out, at + 16, 2 if long_cigar else n_cigar, 2)
    _put(out, at + 18, flag, 2)
    _put(out, at + 20, l_qseq, 4)
    _put(out, at + 24, mtid, 4)
    _put(out, at + 28, mpos, 4)
    _put(out, at + 32, isize, 4)
    name_bytes = l_qname - l_extranul
    _memcpy(out[at + BAM_FIXED_BYTES:].ctypes.data, data, name_bytes)
    at += BAM_FIXED_BYTES + name_bytes
    if not long_cigar:
        _memcpy(out[at:].ctypes.data, data + l_qname, l_data - l_qname)
        return FILLED
    # SAMv1 §4.2.2: <l_seq>S<reference length>N, then sequence, qualities, tags and CG:B:I.
    cigar = data + l_qname
    _put(out, at, (l_qseq << 4) | BAM_CSOFT_CLIP, 4)
    _put(out, at + 4, (_reference_length(out, at + 8, cigar, n_cigar) << 4) | BAM_CREF_SKIP, 4)
    rest = l_data - l_qname - 4 * n_cigar
    _memcpy(out[at + 8:].ctypes.data, cigar + 4 * n_cigar, rest)
    at += 8 + rest
    out[at], out[at + 1], out[at + 2], out[at + 3] = 67, 71, 66, 73  # "CG", type 'B', subtype 'I'
    _put(out, at + 4, n_cigar, 4)
    _memcpy(out[at + CG_TAG_HEADER_BYTES:].ctypes.data, cigar, 4 * n_cigar)
    return FILLED


@njit(cache=True, nogil=True)
def _reference_length(out, scratch, cigar, n_cigar):
    """Reference bases the CIGAR at address ``cigar`` consumes (M, D, N, =, X: SAMv1 §1.4.6),
    read through ``out[scratch:]`` (free space, later overwritten)."""
    _memcpy(out[scratch:].ctypes.data, cigar, 4 * n_cigar)
    length = 0
    for k in range(n_cigar):
        op = _int(out, scratch + 4 * k, 4)
        kind = op & 0xF
        if kind == 0 or kind == 2 or kind == 3 or kind == 7 or kind == 8:
            length += op >> 4
    return length
