"""bgzip's ``.gzi`` index (htslib ``bgzf_index_dump``): where each BGZF block starts, in the
compressed file and in the inflated data, so an inflated offset can be found without
inflating what precedes it.

Layout, little-endian: ``n`` (uint64), then ``n`` pairs (compressed offset, uncompressed
offset) as uint64, one per block after the first (the first block, at (0, 0), is implied).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import IndexFormatError
from ..pos import Pos
from .bai import IndexSource, read_index_bytes

_COUNT = struct.Struct("<Q")
_PAIR_DTYPE = np.dtype([("compressed", "<u8"), ("uncompressed", "<u8")])


@dataclass(frozen=True, eq=False)
class GziIndex:
    """Block starts: ``compressed[k]`` in the file, ``uncompressed[k]`` in the inflated data,
    ascending, starting with the implied first block (0, 0)."""

    compressed: np.ndarray
    uncompressed: np.ndarray
    path: Optional[str] = field(default=None, compare=False)

    def to_uncompressed(self, pos: Pos) -> int:
        """The inflated offset of virtual position ``pos`` (its block must be indexed)."""
        k = int(np.searchsorted(self.compressed, pos.block_pos))
        if k >= len(self.compressed) or int(self.compressed[k]) != pos.block_pos:
            raise IndexFormatError(f"block {pos.block_pos} is not a block start in this .gzi", self.path)
        return int(self.uncompressed[k]) + pos.offset

    def to_pos(self, offset: int) -> Pos:
        """The virtual position of inflated byte ``offset`` (bgzf_useek's lookup)."""
        if offset < 0:
            raise ValueError(f"negative offset {offset}")
        k = int(np.searchsorted(self.uncompressed, offset, side="right")) - 1
        return Pos(int(self.compressed[k]), offset - int(self.uncompressed[k]))


def parse_gzi(data: bytes, path: Optional[str] = None) -> GziIndex:
    """A :class:`GziIndex` from a ``.gzi``'s bytes, checked for length and order."""
    if len(data) < _COUNT.size:
        raise IndexFormatError(f"{len(data)} bytes is shorter than the 8-byte .gzi entry count", path, 0)
    (count,) = _COUNT.unpack_from(data)
    body = len(data) - _COUNT.size
    if body != count * _PAIR_DTYPE.itemsize:
        raise IndexFormatError(f"the .gzi announces {count} entries, but {body} bytes follow "
                               f"({body // _PAIR_DTYPE.itemsize} entries)", path, 0)
    pairs = np.frombuffer(data, dtype=_PAIR_DTYPE, offset=_COUNT.size)
    compressed = np.concatenate([[0], pairs["compressed"].astype(np.int64)])
    uncompressed = np.concatenate([[0], pairs["uncompressed"].astype(np.int64)])
    if np.any(np.diff(compressed) <= 0) or np.any(np.diff(uncompressed) < 0):
        raise IndexFormatError("the .gzi entries are not in ascending order", path)
    return GziIndex(compressed, uncompressed, path)


def read_gzi(source: IndexSource) -> GziIndex:
    """Read and parse a ``.gzi`` from a path, URL, channel or bytes."""
    data, path = read_index_bytes(source)
    return parse_gzi(data, path)
