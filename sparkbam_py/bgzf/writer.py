"""A BGZF writer (SAMv1 §4.1) whose block layout the caller controls.

Real writers cut the stream differently (htslib flushes before a record that would not fit,
htsjdk cuts every 65,498 bytes wherever that falls); tests need every such layout, so the
writer lets callers end a block now, emit exactly chosen bytes as one block, insert empty
blocks, choose the deflate level per block, add foreign extra subfields, and omit the EOF
marker.  It records every block it wrote, which is the ground truth of the layout.

It depends on nothing that reads BGZF, so tests of the reader never check it against itself.
"""
from __future__ import annotations

import os
import struct
import zlib
from typing import BinaryIO, List, NamedTuple, Optional, Union

from ..pos import Pos
# isal's hardware CRC32 where installed (the reader's choice): zlib's is ~15x slower per block.
from .inflate import RAW_DEFLATE_WBITS, crc32
from .constants import (
    BC_SI1,
    BC_SI2,
    BC_SLEN,
    CM_DEFLATE,
    EOF_MARKER,
    FIXED_HEADER_SIZE,
    FLG_FEXTRA,
    GZIP_MAGIC,
    MAX_BLOCK_SIZE,
    MAX_INFLATED_SIZE,
    SUBFIELD_HEADER_SIZE,
    TRAILER_SIZE,
)

# htslib's BGZF_BLOCK_SIZE (0xff00): the data it puts in one block before cutting.
DEFAULT_BLOCK_DATA_SIZE = 0xFF00
# htslib opens "wb" with level -1, zlib's Z_DEFAULT_COMPRESSION, which zlib runs as level 6:
# the level samtools view -b / samtools sort write with unless told otherwise.
DEFAULT_LEVEL = 6
# Deflate implementations: libdeflate (samtools' own: the same bytes per block at the same
# level), zlib (htslib built without libdeflate), or isal (several times faster, larger output).
LIBDEFLATE_BACKEND = "libdeflate"
ZLIB_BACKEND = "zlib"
ISAL_BACKEND = "isal"
BACKENDS = (LIBDEFLATE_BACKEND, ZLIB_BACKEND, ISAL_BACKEND)
# htslib's bgzf.c compresses zlib-scale level N with libdeflate level _LIBDEFLATE_LEVEL_OF[N]
# (libdeflate has 12 levels, the slower ones spread above 4).  Measured against samtools 1.16
# on libdeflate 1.14: every level 1..9 gives blocks of exactly these levels' sizes, and the
# default (6) is libdeflate 7.
_LIBDEFLATE_LEVEL_OF = (0, 1, 2, 3, 5, 6, 7, 8, 10, 12)
# RFC 1952 §2.3.1: MTIME 0 (unknown), XFL 0, OS 255 (unknown), as htslib writes them.
_MTIME = 0
_XFL = 0
_OS_UNKNOWN = 0xFF
# SAMv1 §4.1: XLEN and the extra field's length fields are uint16.
_MAX_XLEN = 0xFFFF


class WrittenBlock(NamedTuple):
    """One block as written: compressed start, compressed size, inflated size.

    The same three numbers, in the same order, as a line of spark-bam's ``.blocks`` file.
    """

    start: int
    compressed_size: int
    uncompressed_size: int


def make_extra_subfield(identifier: bytes, payload: bytes = b"") -> bytes:
    """One gzip extra subfield (RFC 1952 §2.3.1.1): SI1 SI2, LEN (uint16), payload."""
    if len(identifier) != 2:
        raise ValueError(f"a subfield identifier is two bytes, got {identifier!r}")
    if identifier == bytes([BC_SI1, BC_SI2]):
        raise ValueError("BC is the BGZF subfield; compress_block writes it itself")
    if len(payload) > _MAX_XLEN - SUBFIELD_HEADER_SIZE:
        raise ValueError(f"subfield payload of {len(payload)} bytes is too long")
    return identifier + struct.pack("<H", len(payload)) + payload


def _deflate(data: bytes, level: int, backend: str = ZLIB_BACKEND) -> bytes:
    if backend == LIBDEFLATE_BACKEND and level > 0:
        return _libdeflate().deflate_compress(data, libdeflate_level(level))
    if backend == ISAL_BACKEND and level > 0:
        return _isal_zlib().compress(data, isal_level(level), RAW_DEFLATE_WBITS)
    check_backend(backend)
    compressor = zlib.compressobj(level, zlib.DEFLATED, RAW_DEFLATE_WBITS)
    return compressor.compress(data) + compressor.flush()


# isal has four levels (0..3); zlib-scale levels 1..9 map onto them by similar output size
# (measured on short-read BAM data: isal 3 lies between zlib 1 and zlib 5).  Level 0 stays
# "stored", done by zlib, since isal's level 0 still compresses.
_ISAL_LEVEL_OF = {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 3}


def isal_level(level: int) -> int:
    """The isal level (0..3) used for a zlib-scale ``level`` (1..9)."""
    if level not in _ISAL_LEVEL_OF:
        raise ValueError(f"compression level must be 0..9, got {level}")
    return _ISAL_LEVEL_OF[level]


def libdeflate_level(level: int) -> int:
    """The libdeflate level (1..12) htslib uses for a zlib-scale ``level`` (1..9)."""
    if not 1 <= level <= 9:
        raise ValueError(f"compression level must be 0..9, got {level}")
    return _LIBDEFLATE_LEVEL_OF[level]


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown deflate backend {backend!r}: use one of {', '.join(map(repr, BACKENDS))}")
    return backend


def _libdeflate():
    import deflate  # a dependency; its wheel links libdeflate statically

    return deflate


def _isal_zlib():
    from isal import isal_zlib  # optional dependency: only where isal has a wheel

    return isal_zlib


def default_backend() -> str:
    """libdeflate (samtools' sizes at samtools' speed) when installed, else zlib."""
    try:
        _libdeflate()
    except ImportError:
        return ZLIB_BACKEND
    return LIBDEFLATE_BACKEND


def _xlen(extra_subfields: bytes) -> int:
    # The foreign subfields plus BC's own: SI1 SI2 SLEN, then the 2-byte BSIZE.
    return len(extra_subfields) + SUBFIELD_HEADER_SIZE + BC_SLEN


def _block_size(payload: bytes, extra_subfields: bytes) -> int:
    return FIXED_HEADER_SIZE + _xlen(extra_subfields) + len(payload) + TRAILER_SIZE


def _assemble_block(data: bytes, payload: bytes, extra_subfields: bytes) -> bytes:
    # SAMv1 §4.1: the BC subfield holds BSIZE = total block size - 1.  Foreign subfields go
    # first, so readers that assume BC sits at byte 12 are caught out.
    header = GZIP_MAGIC + struct.pack(
        "<BBIBBH", CM_DEFLATE, FLG_FEXTRA, _MTIME, _XFL, _OS_UNKNOWN, _xlen(extra_subfields)
    )
    bsize = _block_size(payload, extra_subfields) - 1
    bc_subfield = struct.pack("<BBHH", BC_SI1, BC_SI2, BC_SLEN, bsize)
    trailer = struct.pack("<II", crc32(data), len(data))
    return header + extra_subfields + bc_subfield + payload + trailer


def compress_block(
    data: bytes, level: int = DEFAULT_LEVEL, extra_subfields: bytes = b"", backend: str = ZLIB_BACKEND
) -> bytes:
    """One complete BGZF block holding exactly ``data``.

    ``level`` (zlib's scale, 0..9) 0 writes stored (uncompressed) deflate blocks; ``backend``
    picks the deflate implementation (``"libdeflate"`` maps the level as htslib does,
    :func:`libdeflate_level`; ``"isal"`` with :func:`isal_level`).  Incompressible data can grow
    under deflate; when the block would pass the 64 KiB limit (SAMv1 §4.1) the data is
    stored instead, which costs only 5 bytes per 64 KiB (RFC 1951 §3.2.4), so any
    ``DEFAULT_BLOCK_DATA_SIZE`` bytes fit.  Raises ValueError when even that cannot fit.
    """
    data = bytes(data)
    if len(data) > MAX_INFLATED_SIZE:
        raise ValueError(f"{len(data)} bytes exceed the {MAX_INFLATED_SIZE}-byte block limit")
    if _xlen(extra_subfields) > _MAX_XLEN:
        raise ValueError("extra subfields do not fit in the 16-bit XLEN")
    payload = _deflate(data, level, backend)
    if _block_size(payload, extra_subfields) > MAX_BLOCK_SIZE and level != 0:
        payload = _deflate(data, 0)
    size = _block_size(payload, extra_subfields)
    if size > MAX_BLOCK_SIZE:
        raise ValueError(
            f"{len(data)} bytes make a {size}-byte block even when stored; "
            f"the limit is {MAX_BLOCK_SIZE} (write at most {DEFAULT_BLOCK_DATA_SIZE} bytes)"
        )
    return _assemble_block(data, payload, extra_subfields)


class BgzfWriter:
    """File-like BGZF writer: buffered ``write`` plus explicit control of every block.

    ``target`` is a path (opened and closed by the writer) or a binary file object (left
    open).  Compressed offsets count from where the file object stood when handed over.
    """

    def __init__(
        self,
        target: Union[str, "os.PathLike[str]", BinaryIO],
        level: int = DEFAULT_LEVEL,
        block_data_size: int = DEFAULT_BLOCK_DATA_SIZE,
        extra_subfields: bytes = b"",
        backend: str = ZLIB_BACKEND,
    ):
        if not 0 < block_data_size <= MAX_INFLATED_SIZE:
            raise ValueError(f"block_data_size must be in 1..{MAX_INFLATED_SIZE}")
        self._owns_file = isinstance(target, (str, bytes, os.PathLike))
        self._file: BinaryIO = open(target, "wb") if self._owns_file else target
        self.level = level
        self.block_data_size = block_data_size
        self.extra_subfields = extra_subfields
        self.backend = backend
        self.blocks: List[WrittenBlock] = []
        self._buffer = bytearray()
        self._offset = 0 if self._owns_file else _initial_offset(self._file)
        self.closed = False

    # -- buffered writing -------------------------------------------------------------
    def write(self, data: bytes) -> int:
        """Buffer ``data``; every time the buffer fills ``block_data_size`` it becomes a block."""
        self._check_open()
        view = memoryview(data)
        while len(view):
            room = self.block_data_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self.block_data_size:
                self.flush_block()
        return len(data)

    def flush_block(self) -> None:
        """End the block being filled now (nothing happens when it is empty)."""
        self._check_open()
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            self._emit(data, self.level, self.extra_subfields)

    # -- explicit blocks --------------------------------------------------------------
    def write_block(
        self, data: bytes, level: Optional[int] = None, extra_subfields: Optional[bytes] = None
    ) -> WrittenBlock:
        """Emit exactly one block holding exactly ``data`` (buffered bytes are flushed first)."""
        self.flush_block()
        return self._emit(
            bytes(data),
            self.level if level is None else level,
            self.extra_subfields if extra_subfields is None else extra_subfields,
        )

    def write_empty_block(self, level: Optional[int] = None) -> WrittenBlock:
        """Emit a block with no data, as some writers do mid-file (not an EOF marker by position)."""
        return self.write_block(b"", level)

    def tell_virtual(self) -> Pos:
        """Where the next byte written will go, as htslib's ``bgzf_tell`` reports it.

        With an empty buffer that is the next block at offset 0, never the end of the last.
        """
        return Pos(self._offset, len(self._buffer))

    def tell(self) -> int:
        """The compressed offset where the next block will start."""
        return self._offset

    # -- closing ----------------------------------------------------------------------
    def close(self, eof_marker: bool = True) -> None:
        """Flush, write the 28-byte EOF marker (SAMv1 §4.1.2) unless told not to, and close."""
        if self.closed:
            return
        self.flush_block()
        if eof_marker:
            self._file.write(EOF_MARKER)
            self._offset += len(EOF_MARKER)
        self._file.flush()
        if self._owns_file:
            self._file.close()
        self.closed = True

    def __enter__(self) -> "BgzfWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------
    def _emit(self, data: bytes, level: int, extra_subfields: bytes) -> WrittenBlock:
        self._check_open()
        block = compress_block(data, level, extra_subfields, self.backend)
        self._file.write(block)
        written = WrittenBlock(self._offset, len(block), len(data))
        self.blocks.append(written)
        self._offset += len(block)
        return written

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("write to a closed BgzfWriter")


def _initial_offset(file: BinaryIO) -> int:
    # Unseekable targets (pipes, sockets) have no position; count from zero.
    try:
        return file.tell()
    except (OSError, AttributeError):
        return 0
