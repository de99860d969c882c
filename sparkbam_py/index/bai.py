"""BAI parsing (SAMv1 §5.2) into the index model that CSI shares (:mod:`.model`).

A BAI is uncompressed and little-endian::

    magic "BAI\\1", n_ref, then per reference:
        n_bin, per bin: bin (uint32), n_chunk, n_chunk x (chunk_beg, chunk_end) (uint64)
        n_intv, ioffset (uint64) x n_intv          -- the linear index, one per 16 kbp
    n_no_coor (uint64, optional)

Each reference's block is self-contained, so :func:`parse_bai_reference` parses one from
just its bytes: that is what a ``.bai.json`` byte range lets a remote reader fetch alone.
Every reference records ``span``, where its block starts and ends in the file.
"""
from __future__ import annotations

import os
import struct
from typing import Dict, Optional, Tuple, Union

from ..errors import IndexFormatError
from ..pos import Pos
from .bins import BAI_DEPTH, pseudo_bin
from .model import BamIndex, Bin, Chunk, ReferenceIndex, ReferenceMetadata  # noqa: F401 - re-exported

# Anything an index can be read from: a path or URL, a channel-like object with ``size``
# and ``read_at``/``read_fully``, or the bytes themselves.
IndexSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, object]

# SAMv1 §5.2: the four magic bytes of a BAI.
BAI_MAGIC = b"BAI\x01"
# SAMv1 §5.2: a chunk is two uint64 virtual offsets; the pseudo-bin holds exactly two.
CHUNK_SIZE = 16
PSEUDO_BIN_CHUNKS = 2
# SAMv1 §5.2: a bin starts with bin (uint32) and n_chunk (int32); CSIv1 adds loffset (uint64).
BIN_HEADER_SIZE = 8
LOFFSET_SIZE = 8
# SAMv1 §5.2: a BAI reference block is at least n_bin and n_intv (two int32); each linear
# index entry (ioffset) is a uint64.
MIN_BAI_REFERENCE_SIZE = 8
IOFFSET_SIZE = 8


class IndexCursor:
    """Little-endian reads over an index's bytes; each failure names the path and offset.

    ``base`` is where ``data`` starts in the file (non-zero for a one-reference slice).
    ``inflated`` says offsets count bytes of the inflated stream (CSI), not of the file.
    """

    def __init__(self, data: bytes, path: Optional[str] = None, base: int = 0, inflated: bool = False):
        self.data = memoryview(data)
        self.path = path
        self.base = base
        self.inflated = inflated
        self.pos = 0

    @property
    def offset(self) -> int:
        return self.base + self.pos

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def error(self, message: str, at: Optional[int] = None) -> IndexFormatError:
        at = self.offset if at is None else at
        if self.inflated:
            return IndexFormatError(f"{message} (at byte {at} of the inflated index)", self.path)
        return IndexFormatError(message, self.path, at)

    def take(self, n: int, what: str) -> memoryview:
        if n > self.remaining:
            raise self.error(f"truncated: {what} needs {n} bytes, only {self.remaining} left")
        view = self.data[self.pos:self.pos + n]
        self.pos += n
        return view

    def uint32(self, what: str) -> int:
        return struct.unpack_from("<I", self.take(4, what))[0]

    def uint64(self, what: str) -> int:
        return struct.unpack_from("<Q", self.take(8, what))[0]

    def uint64s(self, count: int, what: str) -> Tuple[int, ...]:
        return struct.unpack_from(f"<{count}Q", self.take(8 * count, what))

    def count(self, what: str, item_size: int, limit: Optional[int] = None) -> int:
        """A non-negative int32 count, checked against ``limit`` and the bytes left."""
        at = self.offset
        value = struct.unpack_from("<i", self.take(4, what))[0]
        if value < 0 or (limit is not None and value > limit):
            bound = f"0..{limit}" if limit is not None else ">= 0"
            raise self.error(f"{what} = {value} is out of range ({bound})", at)
        if value * item_size > self.remaining:
            raise self.error(
                f"truncated: {what} = {value} needs {value * item_size} bytes, only {self.remaining} left", at
            )
        return value


def read_reference(
    cursor: IndexCursor, depth: int = BAI_DEPTH, has_loffset: bool = False, has_linear: bool = True
) -> ReferenceIndex:
    """Parse one reference's block at the cursor: BAI (linear index) or CSI (per-bin loffset)."""
    start = cursor.offset
    meta_bin = pseudo_bin(depth)
    bin_size = BIN_HEADER_SIZE + (LOFFSET_SIZE if has_loffset else 0)
    # SAMv1 §5.2 bounds n_bin by 37451, the pseudo-bin + 1.
    n_bin = cursor.count("n_bin", bin_size, limit=meta_bin + 1)
    bins: Dict[int, Bin] = {}
    metadata = None
    for _ in range(n_bin):
        at = cursor.offset
        bin_ = _read_bin(cursor, has_loffset)
        if bin_.bin_id in bins or (bin_.bin_id == meta_bin and metadata is not None):
            raise cursor.error(f"bin {bin_.bin_id} appears twice in one reference", at)
        if bin_.bin_id == meta_bin:
            metadata = _metadata_of(bin_, cursor, at)
        elif bin_.bin_id > meta_bin - 2:  # meta_bin - 1 would start a level below the bottom
            raise cursor.error(f"bin {bin_.bin_id} is out of range (real bins are 0..{meta_bin - 2})", at)
        else:
            bins[bin_.bin_id] = bin_
    linear: Tuple[int, ...] = ()
    if has_linear:
        linear = cursor.uint64s(cursor.count("n_intv", IOFFSET_SIZE), "linear index")
    return ReferenceIndex(bins, linear, metadata, (start, cursor.offset))


def _read_bin(cursor: IndexCursor, has_loffset: bool) -> Bin:
    bin_id = cursor.uint32("bin")
    loffset = Pos.from_virtual(cursor.uint64("loffset")) if has_loffset else None
    flat = cursor.uint64s(2 * cursor.count("n_chunk", CHUNK_SIZE), "chunks")
    starts, ends = map(Pos.from_virtual, flat[0::2]), map(Pos.from_virtual, flat[1::2])
    return Bin(bin_id, tuple(map(Chunk, starts, ends)), loffset)


def _metadata_of(pseudo: Bin, cursor: IndexCursor, at: int) -> ReferenceMetadata:
    """SAMv1 §5.2: chunk 1 is (ref_beg, ref_end); "chunk" 2 holds the two counts instead."""
    if len(pseudo.chunks) != PSEUDO_BIN_CHUNKS:
        raise cursor.error(f"pseudo-bin has {len(pseudo.chunks)} chunks, expected {PSEUDO_BIN_CHUNKS}", at)
    offsets, counts = pseudo.chunks
    return ReferenceMetadata(offsets.start, offsets.end, counts.start.virtual, counts.end.virtual)


def read_n_no_coor(cursor: IndexCursor) -> Optional[int]:
    """The optional trailing ``n_no_coor``; anything else left over is an error."""
    if cursor.remaining == 0:
        return None
    n_no_coor = cursor.uint64("n_no_coor")
    if cursor.remaining:
        raise cursor.error(f"{cursor.remaining} unexpected bytes after the index")
    return n_no_coor


def parse_bai(data: bytes, path: Optional[str] = None) -> BamIndex:
    """Parse a whole BAI; :class:`IndexFormatError` (path, byte offset) when it is not one."""
    cursor = IndexCursor(data, path)
    magic = bytes(cursor.take(len(BAI_MAGIC), "magic"))
    if magic != BAI_MAGIC:
        raise cursor.error(f"not a BAI file: magic {magic!r}, expected {BAI_MAGIC!r}", 0)
    n_ref = cursor.count("n_ref", MIN_BAI_REFERENCE_SIZE)
    references = tuple(read_reference(cursor) for _ in range(n_ref))
    n_no_coor = read_n_no_coor(cursor)
    return BamIndex("BAI", references, n_no_coor=n_no_coor, path=path)


def parse_bai_reference(data: bytes, offset: int = 0, path: Optional[str] = None) -> ReferenceIndex:
    """Parse exactly one reference's block, e.g. a ``.bai.json`` byte range fetched alone.

    ``offset`` is where ``data`` starts in the ``.bai`` (for ``span`` and error messages).
    """
    cursor = IndexCursor(data, path, base=offset)
    reference = read_reference(cursor)
    if cursor.remaining:
        raise cursor.error(f"{cursor.remaining} bytes left after one reference's index")
    return reference


def read_bai(source: IndexSource) -> BamIndex:
    """Read and parse a BAI from a path, URL, channel (``size``/``read_at``) or bytes."""
    data, path = read_index_bytes(source)
    return parse_bai(data, path)


def read_index_bytes(source: IndexSource) -> Tuple[bytes, Optional[str]]:
    """All bytes of an index file, and its path for messages (``None`` for raw bytes).

    Paths and URLs go through the project's channel layer, so remote stores work too.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    if isinstance(source, (str, os.PathLike)):
        from ..channel import open_channel  # deferred: only path/URL callers need L1

        with open_channel(os.fspath(source)) as channel:
            return _read_whole(channel), os.fspath(source)
    if hasattr(source, "read_at") and hasattr(source, "size"):
        return _read_whole(source), getattr(source, "path", None)
    raise TypeError(f"cannot read an index from {type(source).__name__}")


def _read_whole(channel) -> bytes:
    reader = getattr(channel, "read_fully", None) or channel.read_at
    return bytes(reader(0, channel.size))
