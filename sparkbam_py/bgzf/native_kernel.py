"""The compiled multi-block inflate (numba; imported only where :func:`.native.available`).

The C functions are declared by the names :mod:`.native` registered, never by address, so
``cache=True`` machine code is valid in every process (see :mod:`.native`).
"""
from __future__ import annotations

import numpy as np
from numba import njit, types

from .constants import (
    BC_SI1,
    BC_SI2,
    BC_SLEN,
    CM_DEFLATE,
    EMPTY_DEFLATE_PAYLOAD,
    FLG_FEXTRA,
    GZIP_ID1,
    GZIP_ID2,
    MAX_INFLATED_SIZE,
    MIN_BLOCK_SIZE,
    STANDARD_HEADER_SIZE,
    STANDARD_XLEN,
    TRAILER_SIZE,
    XLEN_OFFSET,
)
from .native import (
    CRC32_SYMBOL,
    INFLATE_SYMBOL,
    ISAL_DECOMP_OK,
    ISAL_INFLATE_SYMBOL,
    LIBDEFLATE_SUCCESS,
    NEEDS_INPUT,
    NEEDS_PYTHON,
    TABLE_FULL,
    WANTED,
)
from .native import _libraries

_libraries()  # register the symbols before numba links this module's cached code

# libdeflate.h: libdeflate_deflate_decompress_ex(decompressor, in, in_nbytes, out,
# out_nbytes_avail, *actual_in_nbytes_ret, *actual_out_nbytes_ret) -> enum libdeflate_result.
_inflate = types.ExternalFunction(
    INFLATE_SYMBOL,
    types.int32(types.voidptr, types.voidptr, types.uintp, types.voidptr, types.uintp, types.voidptr, types.voidptr))
# igzip_lib.h: isal_inflate_stateless(struct inflate_state *) -> ISAL_DECOMP_OK or an error.
_isal_inflate_stateless = types.ExternalFunction(ISAL_INFLATE_SYMBOL, types.int32(types.voidptr))
# struct inflate_state as uint64 words (igzip_lib.h, little-endian): word 0 next_out; word 1
# avail_out (low half) and total_out (high half); word 2 next_in; word 4 avail_in (low half)
# and read_in_length (high half).
_NEXT_OUT, _OUT_COUNTS, _NEXT_IN, _IN_COUNTS = 0, 1, 2, 4
_LOW_HALF = 0xFFFFFFFF
# crc32(initial, buffer, length) -> CRC32 (zlib's convention; ISA-L's crc32_gzip_refl or libdeflate's).
_crc32 = types.ExternalFunction(CRC32_SYMBOL, types.uint32(types.uint32, types.voidptr, types.uintp))

_EMPTY_PAYLOAD_SIZE = len(EMPTY_DEFLATE_PAYLOAD)


@njit(cache=True, nogil=True)
def inflate_blocks_kernel(decompressor, isal_state, span, offset, span_start, out, produced, wanted, stop_at,
                          block_starts, block_data, verify_checksums):
    """Inflate the standard BGZF blocks at ``span[offset:]`` into ``out[produced:]``, with
    ISA-L through ``isal_state`` (:func:`.native.isal_state`) or, when it is empty, with
    libdeflate's ``decompressor``.

    Stops once ``produced >= wanted`` or at a block starting at or past compressed offset
    ``stop_at``, when no whole block is left in ``span``, when the
    block table is full, or before a block it cannot take (the per-block path then handles
    that block and raises its typed error).  ``out`` has room for ``wanted - produced`` plus
    one maximal block.  Returns ``(blocks, offset, produced, status, last block was empty)``:
    block k started at compressed offset ``block_starts[k]``, its data at ``out[block_data[k]]``.
    """
    end = len(span)
    actual_in = np.zeros(1, dtype=np.uintp)
    actual_out = np.zeros(1, dtype=np.uintp)
    count = 0
    last_empty = False
    status = WANTED
    while produced < wanted and span_start + offset < stop_at:
        if count == len(block_starts):
            status = TABLE_FULL
            break
        if end - offset < STANDARD_HEADER_SIZE:
            status = NEEDS_INPUT
            break
        if not _standard_header(span, offset):
            status = NEEDS_PYTHON
            break
        # SAMv1 §4.1: BSIZE (uint16 at bytes 16..17) is the block size minus 1.
        block_size = (np.int64(span[offset + 16]) | (np.int64(span[offset + 17]) << 8)) + 1
        if block_size < MIN_BLOCK_SIZE:
            status = NEEDS_PYTHON
            break
        if end - offset < block_size:
            status = NEEDS_INPUT
            break
        trailer = offset + block_size - TRAILER_SIZE
        isize = _uint32_at(span, trailer + 4)
        payload = block_size - STANDARD_HEADER_SIZE - TRAILER_SIZE
        if isize > MAX_INFLATED_SIZE:
            status = NEEDS_PYTHON
            break
        deflated = span[offset + STANDARD_HEADER_SIZE:offset + STANDARD_HEADER_SIZE + payload]
        if len(isal_state):
            inflated, consumed_all, ok = isal_inflate(isal_state, deflated, out[produced:])
            exact = ok and consumed_all and inflated == isize
        else:
            result = _inflate(decompressor, deflated.ctypes.data, payload, out[produced:].ctypes.data, isize,
                              actual_in.ctypes.data, actual_out.ctypes.data)
            exact = result == LIBDEFLATE_SUCCESS and actual_out[0] == isize and actual_in[0] == payload
        if not exact:
            status = NEEDS_PYTHON
            break
        if verify_checksums and _crc32(np.uint32(0), out[produced:].ctypes.data, isize) != _uint32_at(span, trailer):
            status = NEEDS_PYTHON
            break
        block_starts[count] = span_start + offset
        block_data[count] = produced
        count += 1
        last_empty = isize == 0 and payload == _EMPTY_PAYLOAD_SIZE
        produced += isize
        offset += block_size
    return count, offset, produced, status, last_empty


@njit(cache=True, nogil=True)
def isal_inflate(state, deflated, out):
    """Inflate the raw deflate stream ``deflated`` into ``out`` with ISA-L (``out`` may be
    longer than the data).  Returns ``(bytes written, all input consumed, ISA-L said OK)``."""
    state[_NEXT_OUT] = out.ctypes.data
    state[_OUT_COUNTS] = min(len(out), _LOW_HALF)
    state[_NEXT_IN] = deflated.ctypes.data
    state[_IN_COUNTS] = len(deflated)
    result = _isal_inflate_stateless(state.ctypes.data)
    return np.int64(state[_OUT_COUNTS] >> 32), (state[_IN_COUNTS] & _LOW_HALF) == 0, result == ISAL_DECOMP_OK


@njit(cache=True, nogil=True, inline="always")
def _standard_header(span, i):
    """RFC 1952 §2.3.1 and SAMv1 §4.1: gzip magic, deflate, FLG = FEXTRA alone, XLEN 6 and
    the BC subfield (SLEN 2): the 18-byte header every BGZF writer emits."""
    return (span[i] == GZIP_ID1 and span[i + 1] == GZIP_ID2 and span[i + 2] == CM_DEFLATE
            and span[i + 3] == FLG_FEXTRA and span[i + XLEN_OFFSET] == STANDARD_XLEN
            and span[i + XLEN_OFFSET + 1] == 0 and span[i + 12] == BC_SI1 and span[i + 13] == BC_SI2
            and span[i + 14] == BC_SLEN and span[i + 15] == 0)


@njit(cache=True, nogil=True, inline="always")
def _uint32_at(span, i):
    # RFC 1952 §2.3.1: the trailer's CRC32 and ISIZE are little-endian uint32.
    return (np.uint32(span[i]) | (np.uint32(span[i + 1]) << 8) | (np.uint32(span[i + 2]) << 16)
            | (np.uint32(span[i + 3]) << 24))
