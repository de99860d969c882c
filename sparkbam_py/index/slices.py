"""Each reference's slice of a BAI, found without parsing the index: what a ``.bai.json`` holds,
computed in one pass when no ``.bai.json`` sits beside the BAI.

The walk reads only the counts of SAMv1 §5.2's layout (n_bin; per bin: bin, n_chunk; n_intv)
and skips the chunk and linear-index arrays, so an 8 MB BAI costs one read and a loop over
its bins, never a Python object per chunk.  A server keeps the spans (a pair per reference)
and afterwards reads one reference's slice per query, as a browser does with a ``.bai.json``.
"""
from __future__ import annotations

import struct
from typing import Optional, Tuple

from ..errors import IndexFormatError
from .bai import BAI_MAGIC, BIN_HEADER_SIZE, CHUNK_SIZE, IOFFSET_SIZE
from .bai_json import FIRST_REFERENCE_OFFSET

_INT32 = struct.Struct("<i")
_BIN = struct.Struct("<Ii")
Spans = Tuple[Tuple[int, int], ...]


def reference_spans(data: bytes, path: Optional[str] = None) -> Spans:
    """``((start, end), ...)``: reference i's block is ``data[start:end]`` (a ``.bai.json``'s chunks)."""
    if data[:4] != BAI_MAGIC:
        raise IndexFormatError(f"not a BAI file: magic {bytes(data[:4])!r}, expected {BAI_MAGIC!r}", path, 0)
    n_ref = _count(data, 4, path, "n_ref")
    at, spans = FIRST_REFERENCE_OFFSET, []
    for _ in range(n_ref):
        start = at
        n_bin = _count(data, at, path, "n_bin")
        at += 4
        for _ in range(n_bin):
            if at + BIN_HEADER_SIZE > len(data):
                raise IndexFormatError("truncated inside a bin", path, at)
            _, n_chunk = _BIN.unpack_from(data, at)
            if n_chunk < 0:
                raise IndexFormatError(f"n_chunk = {n_chunk} is negative", path, at + 4)
            at += BIN_HEADER_SIZE + n_chunk * CHUNK_SIZE
        at += 4 + _count(data, at, path, "n_intv") * IOFFSET_SIZE
        if at > len(data):
            raise IndexFormatError(f"truncated: reference {len(spans)} runs to byte {at}", path, len(data))
        spans.append((start, at))
    return tuple(spans)


def _count(data: bytes, at: int, path: Optional[str], what: str) -> int:
    if at + 4 > len(data):
        raise IndexFormatError(f"truncated before {what}", path, at)
    value = _INT32.unpack_from(data, at)[0]
    if value < 0:
        raise IndexFormatError(f"{what} = {value} is negative", path, at)
    return value
