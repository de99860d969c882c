"""htsjdk's splitting index (``.sbi``): the virtual offset of every n-th record.

Layout (htsjdk ``SBIIndex``/``SBIIndexWriter``; hts-specs PR #321, not merged), all
little-endian, a 68-byte header then the offsets::

    magic "SBI\\1" | file length (int64) | MD5 (16 bytes, zero if unset) | UUID (16, zero if
    unset) | record count (int64) | granularity (int64, 0 = unspecified) | n_offsets (int64)
    n_offsets x virtual offset (int64, ascending)

The offsets are records 0, g, 2g, ... and, last, the virtual offset where a next record
would start (the EOF marker block for a complete BAM).  htsjdk keeps them in a sorted set,
so a duplicate (only possible when a BAM has no records) is written once.

A ``.sbi`` turns split planning into a lookup: a byte range's split starts at the first
indexed record at or after ``Pos(range start, 0)`` (htsjdk ``getChunk``), no search needed.
It describes one exact file; an index whose recorded length differs from the BAM's is stale.
"""
from __future__ import annotations

import hashlib
import os
import struct
import warnings
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..config import DEFAULT_SPLIT_SIZE
from ..errors import IndexFormatError, MissingInputError, SparkBamError
from ..pos import Pos
from ..split.exact import first_offsets_at_or_after, splits_from_offsets
from ..split.ranges import ByteRange, Split, compute_byte_ranges
from .bai import IndexSource, read_index_bytes

SBI_EXTENSION = ".sbi"
# htsjdk SBIIndex.SBI_MAGIC.
SBI_MAGIC = b"SBI\x01"
# magic, fileLength, md5, uuid, totalNumberOfRecords, granularity, numOffsets: 68 bytes.
SBI_HEADER = struct.Struct("<4sq16s16sqqq")
# htsjdk SBIIndexWriter.DEFAULT_GRANULARITY.
DEFAULT_GRANULARITY = 4096
_DIGEST_BYTES = 16
_MD5_READ_BYTES = 8 << 20
_OFFSET_DTYPE = np.dtype("<i8")  # BinaryCodec.writeLong: signed, little-endian


class StaleIndexWarning(UserWarning):
    """A ``.sbi`` beside a BAM was ignored (stale or unreadable); splits fall back to search."""


@dataclass(frozen=True, eq=False)
class SbiIndex:
    """One ``.sbi``: header fields and ``offsets``, an int64 array of virtual offsets."""

    file_length: int
    record_count: int
    granularity: int
    offsets: np.ndarray
    md5: bytes = bytes(_DIGEST_BYTES)
    uuid: bytes = bytes(_DIGEST_BYTES)

    def __eq__(self, other) -> bool:
        if not isinstance(other, SbiIndex):
            return NotImplemented
        return (self.header_fields() == other.header_fields()
                and np.array_equal(self.offsets, other.offsets))

    def header_fields(self) -> Tuple[int, int, int, bytes, bytes]:
        return self.file_length, self.record_count, self.granularity, self.md5, self.uuid

    @property
    def positions(self) -> List[Pos]:
        return [Pos.from_virtual(int(v)) for v in self.offsets]

    @property
    def last(self) -> Pos:
        """Where a next record would start: the end of the indexed records."""
        return Pos.from_virtual(int(self.offsets[-1]))

    def chunk(self, split_start: int, split_end: int) -> Optional[Tuple[Pos, Pos]]:
        """htsjdk ``getChunk``: indexed records from the first at or after
        ``Pos(split_start, 0)`` to the first at or after ``Pos(split_end, 0)``; None if empty."""
        if split_start >= split_end:
            raise ValueError(f"split start {split_start} must be below its end {split_end}")
        first, after = self._chunk_bounds(np.array([split_start]), np.array([split_end]))
        if first[0] == after[0]:
            return None
        return Pos.from_virtual(int(first[0])), Pos.from_virtual(int(after[0]))

    def _chunk_bounds(self, starts: np.ndarray, ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        return first_offsets_at_or_after(self.offsets, starts), first_offsets_at_or_after(self.offsets, ends)

    def to_bytes(self) -> bytes:
        header = SBI_HEADER.pack(SBI_MAGIC, self.file_length, self.md5, self.uuid,
                                 self.record_count, self.granularity, len(self.offsets))
        return header + self.offsets.astype(_OFFSET_DTYPE, copy=False).tobytes()


# -- reading ------------------------------------------------------------------------------


def parse_sbi(data: bytes, path: Optional[str] = None) -> SbiIndex:
    """An :class:`SbiIndex` from a ``.sbi``'s bytes, checked as htsjdk checks it (and for
    a length that matches ``n_offsets``, which htsjdk leaves to a short read)."""
    if len(data) < SBI_HEADER.size:
        raise IndexFormatError(f"{len(data)} bytes is shorter than the {SBI_HEADER.size}-byte SBI header", path)
    magic, file_length, md5, uuid, records, granularity, n_offsets = SBI_HEADER.unpack_from(data)
    if magic != SBI_MAGIC:
        raise IndexFormatError(f"not an SBI index: magic {magic!r}, expected {SBI_MAGIC!r}", path, 0)
    body = len(data) - SBI_HEADER.size
    if n_offsets < 1 or body != n_offsets * _OFFSET_DTYPE.itemsize:
        raise IndexFormatError(
            f"header announces {n_offsets} offsets, but {body} bytes follow it "
            f"({body // _OFFSET_DTYPE.itemsize} offsets); at least one is required", path)
    offsets = np.frombuffer(data, dtype=_OFFSET_DTYPE, offset=SBI_HEADER.size).astype(np.int64)
    _check_ascending(offsets, path)
    return SbiIndex(file_length, records, granularity, offsets, md5, uuid)


def _check_ascending(offsets: np.ndarray, path: Optional[str]) -> None:
    if offsets[0] < 0:
        raise IndexFormatError(f"negative virtual offset {int(offsets[0])}", path, SBI_HEADER.size)
    falls = np.flatnonzero(offsets[1:] < offsets[:-1])
    if len(falls):
        k = int(falls[0])
        raise IndexFormatError(
            f"offsets not in order: entry {k} is {Pos.from_virtual(int(offsets[k]))}, "
            f"entry {k + 1} is {Pos.from_virtual(int(offsets[k + 1]))}", path)


def read_sbi(source: IndexSource) -> SbiIndex:
    """Read and parse a ``.sbi`` from a path, URL, channel (``size``/``read_at``) or bytes."""
    data, path = read_index_bytes(source)
    return parse_sbi(data, path)


def sbi_path_for(bam_path: str) -> str:
    """``BAM.sbi`` beside the BAM; for a URL, the suffix goes on the path, not the query."""
    bam_path = os.fspath(bam_path)
    parts = urlsplit(bam_path)
    if len(parts.scheme) <= 1 or not parts.query:  # local paths (and drive letters), plain URLs
        return bam_path + SBI_EXTENSION
    return urlunsplit(parts._replace(path=parts.path + SBI_EXTENSION))


def find_sbi(bam_path: str, file_size: int) -> Optional[SbiIndex]:
    """The ``.sbi`` beside ``bam_path`` when there is one and it describes a file of
    ``file_size`` bytes; None otherwise.

    A stale or unreadable index is ignored with a :class:`StaleIndexWarning`: search finds
    exact splits without it, while a stale index would place splits mid-record.  Only the
    length is compared (as htsjdk would need to); a same-length rewrite goes unnoticed.
    """
    path = sbi_path_for(bam_path)
    try:
        index = read_sbi(path)
    except MissingInputError:
        return None
    except SparkBamError as error:
        warnings.warn(f"ignoring splitting index {path}: {error}", StaleIndexWarning, stacklevel=2)
        return None
    if index.file_length != file_size:
        warnings.warn(
            f"ignoring stale splitting index {path}: it describes a file of {index.file_length} bytes, "
            f"but {bam_path} has {file_size}", StaleIndexWarning, stacklevel=2)
        return None
    return index


# -- splits -------------------------------------------------------------------------------


def splits_from_sbi(sbi: SbiIndex, file_size: int, split_size=DEFAULT_SPLIT_SIZE,
                    ranges: Optional[Sequence[ByteRange]] = None) -> List[Split]:
    """The splits of the library's byte ranges (``compute_byte_ranges``), by ``getChunk``.

    With granularity 1 these equal the splits record-start search finds, with one exception:
    a record starting right after a block's data is named by the next block even when that
    block is empty, and getChunk goes by names, so when a range boundary falls between that
    empty block and the record's bytes, the record opens the next split in search's splits
    and closes the earlier one here.  With granularity g, a split starts at an indexed
    record (every g-th), so boundaries can sit up to g - 1 records later than search's.
    Either way the splits tile the records exactly when each is read by names, from its
    start while below its end.  As with search, the last split ends at ``Pos(file_size, 0)``
    (getChunk ends it at the last offset; no record starts in between).
    """
    if sbi.file_length != file_size:
        raise IndexFormatError(
            f"the index describes a file of {sbi.file_length} bytes, not {file_size}: it is stale")
    if ranges is None:
        ranges = compute_byte_ranges(file_size, split_size)
    return splits_from_offsets(sbi.offsets, ranges, file_size)


# -- writing ------------------------------------------------------------------------------


def compute_sbi(bam, granularity: int = DEFAULT_GRANULARITY, md5: bool = False,
                progress: Optional[Callable[[int, int], None]] = None) -> SbiIndex:
    """The ``.sbi`` of an open :class:`~sparkbam_py.bam.file.BamFile`, from its record walk
    (block_size fields only, as htsjdk's ``BAMSBIIndexer``); ``progress(byte, records)``."""
    if granularity < 1:
        raise ValueError(f"granularity must be at least 1, got {granularity}")
    kept: List[np.ndarray] = []
    count = 0
    after_last = bam.header.end
    for chunk in bam.iter_record_chunks():
        virtual = chunk.virtual_offsets()
        # Records count, count+1, ... are in this chunk; keep those with index % g == 0.
        kept.append(virtual[(-count) % granularity::granularity])
        count += len(virtual)
        after_last = position_after_last_record(chunk)
        if progress is not None:
            progress(after_last.block_pos, count)
    kept.append(np.array([after_last.virtual], dtype=np.int64))
    digest = file_md5(bam.channel) if md5 else bytes(_DIGEST_BYTES)
    # Already a sorted set, as htsjdk keeps it: record starts ascend and the end follows them.
    offsets = np.concatenate(kept).astype(np.int64)
    return SbiIndex(bam.size, count, granularity, offsets, md5=digest)


def position_after_last_record(chunk) -> Pos:
    """Where the block_size chain goes after a chunk's last record: a next record's start."""
    last = int(chunk.offsets[-1])
    block_size = struct.unpack_from("<i", chunk.run.raw, last)[0]
    return chunk.run.pos_at(last + 4 + block_size)  # SAMv1 §4.2: block_size excludes itself


def file_md5(channel) -> bytes:
    digest = hashlib.md5()
    for offset in range(0, channel.size, _MD5_READ_BYTES):
        digest.update(channel.read_at(offset, _MD5_READ_BYTES))
    return digest.digest()


def write_sbi(index: SbiIndex, out_path: str) -> int:
    """Write ``index`` to ``out_path`` (atomically: a reader never sees half a file)."""
    data = index.to_bytes()
    partial = f"{out_path}.partial"
    with open(partial, "wb") as handle:
        handle.write(data)
    os.replace(partial, out_path)
    return len(data)
