"""A merged tabix index (``.tbi``, or ``.csi`` with the tabix header as its auxiliary data)
from the index pieces of a text file's parts.

Parts gather their pieces as BAM parts do (:mod:`.index_part`), with two differences:

* references are the contigs in the order the file names them (as ``tabix`` numbers them),
  known only at commit: each part numbers its own contigs by appearance and the commit
  renumbers every piece to the file's order (:func:`renumbered`);
* the scheme cannot come from a header's lengths (a BED or GFF has none), so parts bin at a
  depth deep enough for any position (:data:`BUILD_DEPTH`) and the commit moves every bin to
  the depth the file needs (:func:`rebinned`): TBI's 5 levels when every interval ends by
  2^29 (tabix.pdf), else the shallowest CSI depth that reaches the last end, as
  ``tabix --csi`` chooses.  A bin of level ``l`` at depth ``D`` covers what the bin of the
  same offset at level ``l - (D - d)`` covers at depth ``d``: moving is exact.

The reference blocks are BAI's (SAMv1 §5.2): bins with chunks, the pseudo-bin, the 16 kbp
linear index; tabix.pdf's header comes first (format, columns, meta character, skip, names).
"""
from __future__ import annotations

import struct
from dataclasses import replace
from typing import List, Sequence, Tuple

import numpy as np

from ..bgzf.constants import EOF_MARKER
from ..bgzf.writer import DEFAULT_LEVEL, compress_block, default_backend
from ..index.bins import BAI_DEPTH, BAI_MIN_SHIFT, level_first_bin
from ..index.tabix import TABIX_CONF, TBI_MAGIC, TabixConfig
from .index_merge import MergedIndex
from .index_part import PartIndex

# Parts bin at this depth: 2^(14 + 3*7) = 2^35 reaches past any 32-bit position.
BUILD_DEPTH = 7
TBI_REACH = 1 << (BAI_MIN_SHIFT + 3 * BAI_DEPTH)  # 2^29: the last end a .tbi can index


def index_depth(max_end: int, kind: str) -> int:
    """The depth of the index to write: BAI's 5 for ``"tbi"``, the shallowest depth of at least
    5 that reaches ``max_end`` for ``"csi"``."""
    if kind == "tbi":
        return BAI_DEPTH
    depth = BAI_DEPTH
    while max_end > 1 << (BAI_MIN_SHIFT + 3 * depth):
        depth += 1
    return depth


def rebinned(bins: np.ndarray, depth: int) -> np.ndarray:
    """Bins numbered at :data:`BUILD_DEPTH` renumbered at ``depth`` (each keeps its span)."""
    bins = np.asarray(bins, dtype=np.int64)
    firsts = np.array([level_first_bin(level) for level in range(BUILD_DEPTH + 2)], dtype=np.int64)
    level = np.searchsorted(firsts, bins, side="right") - 1
    moved = level - (BUILD_DEPTH - depth)
    if (moved < 0).any():
        raise ValueError(f"an interval is longer than a depth-{depth} index reaches")
    return firsts[moved] + (bins - firsts[level])


def renumbered(piece: PartIndex, new_ids: np.ndarray) -> PartIndex:
    """``piece`` with its part-local contig numbers mapped through ``new_ids``."""
    return replace(piece, chunk_ref=new_ids[piece.chunk_ref], window_ref=new_ids[piece.window_ref],
                   meta_ref=new_ids[piece.meta_ref])


def tabix_header(config: TabixConfig, names: Sequence[str]) -> bytes:
    """tabix.pdf's header after the magic and n_ref: seven int32, then the NUL-ended names."""
    packed = b"".join(name.encode("utf-8") + b"\0" for name in names)
    return TABIX_CONF.pack(config.format, config.col_seq, config.col_beg, config.col_end,
                           ord(config.meta), config.skip, len(packed)) + packed


def tabix_index_bytes(pieces: List[PartIndex], names: Sequence[str], config: TabixConfig, kind: str,
                      max_end: int) -> Tuple[bytes, str]:
    """``(the index file, its suffix)`` from pieces already shifted and renumbered, binned at
    :data:`BUILD_DEPTH`; ``kind`` is ``"tbi"`` or ``"csi"``."""
    depth = index_depth(max_end, kind)
    merged = MergedIndex([replace(p, chunk_bin=rebinned(p.chunk_bin, depth), depth=depth) for p in pieces],
                         len(names), BAI_MIN_SHIFT, depth)
    header = tabix_header(config, names)
    if kind == "csi":
        return merged.csi_bytes(aux=header), ".csi"
    stream = TBI_MAGIC + struct.pack("<i", len(names)) + header + b"".join(merged.reference_blocks(False))
    # tabix's own deflate (libdeflate where installed) at its default level: ~3x zlib's speed
    blocks = [compress_block(stream[i:i + 0xFF00], DEFAULT_LEVEL, b"", default_backend())
              for i in range(0, len(stream), 0xFF00)]
    return b"".join(blocks) + EOF_MARKER, ".tbi"
