"""Tabix indexes: ``.tbi`` and the tabix flavour of ``.csi`` (hts-specs tabix.pdf, CSIv1).

A ``.tbi`` is BGZF-compressed; its inflated stream is little-endian::

    magic "TBI\\1", n_ref, format, col_seq, col_beg, col_end, meta, skip, l_nm (int32 each),
    names (l_nm bytes: NUL-terminated sequence names, in reference-id order),
    then n_ref reference blocks exactly as in a BAI (bins, chunks, linear index),
    n_no_coor (uint64, optional)

htslib writes a tabix ``.csi`` with the same header fields, from ``format`` on, as the CSI's
auxiliary data.  ``format`` is 0 generic, 1 SAM, 2 VCF, plus 0x10000 when the begin column
is 0-based (UCSC/BED); columns are 1-based (``col_end`` 0: none); ``meta`` is the character
that starts header/comment lines and ``skip`` the number of leading lines to skip.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional, Tuple

from ..errors import IndexFormatError
from .bai import BamIndex, IndexCursor, IndexSource, read_index_bytes, read_n_no_coor, read_reference
from .csi import CSI_MAGIC, GZIP_MAGIC, inflate_bgzf, parse_csi

TBI_MAGIC = b"TBI\x01"
# tabix.pdf: format, col_seq, col_beg, col_end, meta, skip, l_nm: seven int32.
TABIX_CONF = struct.Struct("<7i")
# tbx.h presets (the low 16 bits of format) and the 0-based flag.
TBX_GENERIC, TBX_SAM, TBX_VCF = 0, 1, 2
TBX_UCSC = 0x10000
# A reference block is at least n_bin and n_intv (SAMv1 §5.2).
MIN_TBI_REFERENCE_SIZE = 8
TABIX_EXTENSIONS = (".tbi", ".csi")


class TabixConfig(NamedTuple):
    """The tabix header: how to find a line's sequence, begin and end."""

    format: int = TBX_GENERIC
    col_seq: int = 1
    col_beg: int = 4
    col_end: int = 5
    meta: str = "#"
    skip: int = 0

    @property
    def preset(self) -> int:
        """``TBX_GENERIC``, ``TBX_SAM`` or ``TBX_VCF``."""
        return self.format & 0xFFFF

    @property
    def zero_based(self) -> bool:
        """True when the begin column is 0-based (BED-like, tabix ``-0``)."""
        return bool(self.format & TBX_UCSC)


@dataclass(frozen=True)
class TabixIndex:
    """A parsed tabix index: its header, sequence names and the bins/chunks (``index``)."""

    config: TabixConfig
    names: Tuple[str, ...]
    index: BamIndex
    path: Optional[str] = field(default=None, compare=False)

    def ref_id(self, name: str) -> Optional[int]:
        try:
            return self.names.index(name)
        except ValueError:
            return None


def parse_tabix_header(cursor: IndexCursor) -> Tuple[TabixConfig, Tuple[str, ...]]:
    """The seven header fields and the names, at the cursor."""
    at = cursor.offset
    fmt, col_seq, col_beg, col_end, meta, skip, l_nm = TABIX_CONF.unpack(cursor.take(TABIX_CONF.size, "tabix header"))
    if col_seq < 1 or col_beg < 1 or col_end < 0 or skip < 0 or l_nm < 0 or not 0 <= meta < 256:
        raise cursor.error(f"implausible tabix header: seq={col_seq} beg={col_beg} end={col_end} "
                           f"meta={meta} skip={skip} l_nm={l_nm}", at)
    raw = bytes(cursor.take(l_nm, "sequence names"))
    if raw and not raw.endswith(b"\0"):
        raise cursor.error("sequence names are not NUL-terminated", at + TABIX_CONF.size)
    names = tuple(name.decode("utf-8", "replace") for name in raw.split(b"\0")[:-1]) if raw else ()
    return TabixConfig(fmt, col_seq, col_beg, col_end, chr(meta), skip), names


def parse_tbi(data: bytes, path: Optional[str] = None) -> TabixIndex:
    """A ``.tbi`` from its file bytes (BGZF) or its inflated stream."""
    if data[:2] == GZIP_MAGIC:
        data = inflate_bgzf(data, path)
    cursor = IndexCursor(data, path, inflated=True)
    magic = bytes(cursor.take(len(TBI_MAGIC), "magic"))
    if magic != TBI_MAGIC:
        raise cursor.error(f"not a tabix index: magic {magic!r}, expected {TBI_MAGIC!r}", 0)
    n_ref = cursor.count("n_ref", MIN_TBI_REFERENCE_SIZE)
    config, names = parse_tabix_header(cursor)
    _check_names(names, n_ref, path)
    references = tuple(read_reference(cursor) for _ in range(n_ref))
    index = BamIndex("TBI", references, n_no_coor=read_n_no_coor(cursor), path=path)
    return TabixIndex(config, names, index, path)


def parse_tabix_csi(data: bytes, path: Optional[str] = None) -> TabixIndex:
    """A tabix ``.csi``: a CSI whose auxiliary data holds the tabix header."""
    index = parse_csi(data, path)
    if len(index.aux) < TABIX_CONF.size:
        raise IndexFormatError(f"this CSI has {len(index.aux)} bytes of auxiliary data, not a tabix header "
                               "(a BAM's index?)", path)
    config, names = parse_tabix_header(IndexCursor(index.aux, path, inflated=True))
    _check_names(names, index.n_refs, path)
    return TabixIndex(config, names, index, path)


def _check_names(names: Tuple[str, ...], n_ref: int, path: Optional[str]) -> None:
    if len(names) != n_ref:
        raise IndexFormatError(f"the index names {len(names)} sequences but has {n_ref} reference blocks", path)


def parse_tabix(data: bytes, path: Optional[str] = None) -> TabixIndex:
    """A ``.tbi`` or tabix ``.csi``, told apart by the magic of the inflated stream."""
    inflated = inflate_bgzf(data, path) if data[:2] == GZIP_MAGIC else data
    if inflated[:4] == TBI_MAGIC:
        return parse_tbi(inflated, path)
    if inflated[:4] == CSI_MAGIC:
        return parse_tabix_csi(inflated, path)
    raise IndexFormatError(f"neither a .tbi nor a .csi: starts with {bytes(inflated[:4])!r}", path, 0)


def read_tabix(source: IndexSource) -> TabixIndex:
    """Read and parse a tabix index from a path, URL, channel or bytes."""
    data, path = read_index_bytes(source)
    return parse_tabix(data, path)


def find_tabix_path(data_path: str) -> Optional[str]:
    """``FILE.tbi`` or ``FILE.csi`` beside a local file (htslib's order); None if neither."""
    data_path = os.fspath(data_path)
    for extension in TABIX_EXTENSIONS:
        if os.path.isfile(data_path + extension):
            return data_path + extension
    return None


def tabix_candidates(data_path: str) -> List[str]:
    """Where a tabix index of ``data_path`` may be, local or remote, in htslib's order."""
    return [data_path + extension for extension in TABIX_EXTENSIONS]
