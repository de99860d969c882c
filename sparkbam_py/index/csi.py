"""CSI parsing (CSIv1), plus opening "whichever index a BAM has" (BAI or CSI).

A CSI is a BGZF file (CSIv1 §1) whose inflated stream is little-endian::

    magic "CSI\\1", min_shift (int32), depth (int32), l_aux (int32), aux (l_aux bytes),
    n_ref (int32), then per reference:
        n_bin, per bin: bin (uint32), loffset (uint64), n_chunk, n_chunk x (beg, end) (uint64)
    n_no_coor (uint64, optional)

There is no linear index: each bin carries ``loffset``, the first record overlapping it.
The binning scheme is general (``min_shift``, ``depth``), so references longer than 2^29
bases can be indexed.  Offsets in errors and in ``span`` count bytes of the inflated stream.

BGZF is a series of gzip members (SAMv1 §4.1), so the standard library inflates it.
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Optional, Tuple

from ..bgzf.header import block_size_at
from ..bgzf.inflate import inflate_bgzf_bytes
from ..errors import CorruptBlockError, IndexFormatError, TruncatedError
from .bai import (
    BAI_MAGIC,
    BamIndex,
    IndexCursor,
    IndexSource,
    ReferenceIndex,
    parse_bai,
    read_index_bytes,
    read_n_no_coor,
    read_reference,
)

# CSIv1 §1: the four magic bytes of the inflated stream.
CSI_MAGIC = b"CSI\x01"
# RFC 1952 §2.3.1: every gzip member (so every BGZF block) starts with ID1 ID2.
GZIP_MAGIC = b"\x1f\x8b"
# Bin numbers are uint32 and a scheme of depth d has (8**(d+1) - 1) / 7 bins plus the
# pseudo-bin, so depth 9 is the deepest that fits; positions are at most 64 bits wide.
MAX_DEPTH = 9
MAX_POSITION_BITS = 63
# CSIv1: a reference block is at least its n_bin (int32).
MIN_CSI_REFERENCE_SIZE = 4


def inflate_bgzf(data: bytes, path: Optional[str] = None, verify_checksums: bool = True) -> bytes:
    """The concatenated payload of every gzip member in ``data`` (a BGZF file is one).

    BGZF goes through the library's block inflater (every CRC32 checked unless
    ``verify_checksums`` is False; errors name the block); plain gzip through the standard
    library, which always checks its CRC32.
    """
    try:
        if block_size_at(data) is not None:
            return inflate_bgzf_bytes(data, path, verify_checksums)
        return gzip.decompress(data)
    except (CorruptBlockError, TruncatedError) as exc:
        raise IndexFormatError(f"cannot inflate the BGZF-compressed index: {exc.detail}", path,
                               exc.where) from exc
    except (OSError, EOFError, zlib.error) as exc:
        # gzip raises BadGzipFile (an OSError) for bad headers, EOFError for truncation.
        raise IndexFormatError(f"cannot inflate the BGZF-compressed index: {exc}", path) from exc


def parse_csi(data: bytes, path: Optional[str] = None) -> BamIndex:
    """Parse a CSI from its file bytes (BGZF) or from its already inflated stream."""
    if data[:2] == GZIP_MAGIC:
        data = inflate_bgzf(data, path)
    cursor = IndexCursor(data, path, inflated=True)
    magic = bytes(cursor.take(len(CSI_MAGIC), "magic"))
    if magic != CSI_MAGIC:
        raise cursor.error(f"not a CSI index: magic {magic!r}, expected {CSI_MAGIC!r}", 0)
    min_shift, depth = _read_scheme(cursor)
    aux = bytes(cursor.take(cursor.count("l_aux", 1), "aux"))
    n_ref = cursor.count("n_ref", MIN_CSI_REFERENCE_SIZE)
    references = tuple(
        read_reference(cursor, depth, has_loffset=True, has_linear=False) for _ in range(n_ref)
    )
    n_no_coor = read_n_no_coor(cursor)
    return BamIndex("CSI", references, min_shift, depth, n_no_coor, aux, path)


def _read_scheme(cursor: IndexCursor) -> Tuple[int, int]:
    """``(min_shift, depth)``, checked so that bin numbers and positions fit their fields."""
    at = cursor.offset
    min_shift = cursor.count("min_shift", 0)
    depth = cursor.count("depth", 0, limit=MAX_DEPTH)
    if min_shift == 0 or min_shift + 3 * depth > MAX_POSITION_BITS:
        raise cursor.error(f"implausible binning scheme min_shift={min_shift} depth={depth}", at)
    return min_shift, depth


def parse_csi_reference(
    data: bytes, depth: int, offset: int = 0, path: Optional[str] = None
) -> ReferenceIndex:
    """Parse one reference's block from a slice of the *inflated* CSI stream."""
    cursor = IndexCursor(data, path, base=offset, inflated=True)
    reference = read_reference(cursor, depth, has_loffset=True, has_linear=False)
    if cursor.remaining:
        raise cursor.error(f"{cursor.remaining} bytes left after one reference's index")
    return reference


def read_csi(source: IndexSource) -> BamIndex:
    """Read and parse a CSI from a path, URL, channel (``size``/``read_at``) or bytes."""
    data, path = read_index_bytes(source)
    return parse_csi(data, path)


def parse_index(data: bytes, path: Optional[str] = None) -> BamIndex:
    """A BAI or a CSI, told apart by their first bytes (BAI is never compressed)."""
    if data[: len(BAI_MAGIC)] == BAI_MAGIC:
        return parse_bai(data, path)
    if data[:2] == GZIP_MAGIC or data[: len(CSI_MAGIC)] == CSI_MAGIC:
        return parse_csi(data, path)
    raise IndexFormatError(f"neither a BAI nor a CSI index: starts with {bytes(data[:4])!r}", path, 0)


def read_index(source: IndexSource) -> BamIndex:
    """Read a BAI or CSI from a path, URL, channel or bytes, whichever it is."""
    data, path = read_index_bytes(source)
    return parse_index(data, path)


def find_index_path(bam_path: str) -> Optional[str]:
    """The local index of ``bam_path``, in htslib's order of preference.

    ``x.bam.csi``, ``x.csi``, ``x.bam.bai``, ``x.bai`` (htslib ``idx_check_local``); ``None``
    when there is none.
    """
    bam_path = os.fspath(bam_path)
    stem, _ = os.path.splitext(bam_path)
    for candidate in (bam_path + ".csi", stem + ".csi", bam_path + ".bai", stem + ".bai"):
        if os.path.isfile(candidate):
            return candidate
    return None
