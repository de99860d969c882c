"""The index model BAI and CSI share (SAMv1 §5.2, CSIv1): chunks, bins, one index per reference.

Parsers (:mod:`.bai`, :mod:`.csi`) build it; queries (:mod:`.chunks`) read it.  It lives apart
from both so that neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Dict, List, NamedTuple, Optional, Tuple

from ..pos import Pos
from .bins import BAI_DEPTH, BAI_MIN_SHIFT, pseudo_bin


class Chunk(NamedTuple):
    """A ``[start, end)`` range of virtual offsets in the BAM (SAMv1 §5.2 ``chunk_beg/end``)."""

    start: Pos
    end: Pos

    def __str__(self) -> str:
        return f"[{self.start}, {self.end})"



class Bin(NamedTuple):
    """One bin of the binning index: its chunks, and (CSI only) ``loffset``.

    CSIv1: ``loffset`` is the virtual offset of the first record overlapping the bin.
    BAI has no such field (``None``); htslib derives it from the linear index.
    """

    bin_id: int
    chunks: Tuple[Chunk, ...]
    loffset: Optional[Pos] = None


class ReferenceMetadata(NamedTuple):
    """The pseudo-bin (SAMv1 §5.2: bin 37450; CSI: ``bin_limit + 1``), decoded.

    ``ref_beg``/``ref_end`` are the virtual offsets of the reference's first record and of
    the byte just after its last one; the counts include placed unmapped reads.
    """

    ref_beg: Pos
    ref_end: Pos
    n_mapped: int
    n_unmapped: int


@dataclass(frozen=True)
class ReferenceIndex:
    """The index of one reference: bins (pseudo-bin excluded), linear index, metadata.

    ``linear_index`` holds the stored virtual offsets (BAI only; empty for CSI), zeros
    included; ``span`` is the ``[start, end)`` byte range of this block in the (inflated)
    index file.
    """

    bins: Dict[int, Bin]
    linear_index: Tuple[int, ...] = ()
    metadata: Optional[ReferenceMetadata] = None
    span: Tuple[int, int] = (0, 0)

    @cached_property
    def filled_linear_index(self) -> Tuple[int, ...]:
        """The linear index with empty (0) windows taken from the previous window, as
        htslib does on load: old writers left windows without reads at 0."""
        filled: List[int] = []
        for offset in self.linear_index:
            filled.append(offset if offset or not filled else filled[-1])
        return tuple(filled)

    @property
    def has_data(self) -> bool:
        return bool(self.bins) or self.metadata is not None


@dataclass(frozen=True)
class BamIndex:
    """A parsed BAI or CSI: the binning scheme and one :class:`ReferenceIndex` per reference.

    ``n_no_coor`` is ``None`` when the optional trailing field is absent.  ``aux`` is CSI's
    auxiliary data (htslib stores a tabix header there), empty for BAI.
    """

    kind: str  # "BAI" or "CSI"
    references: Tuple[ReferenceIndex, ...]
    min_shift: int = BAI_MIN_SHIFT
    depth: int = BAI_DEPTH
    n_no_coor: Optional[int] = None
    aux: bytes = b""
    path: Optional[str] = field(default=None, compare=False)

    @property
    def pseudo_bin(self) -> int:
        return pseudo_bin(self.depth)

    @property
    def n_refs(self) -> int:
        return len(self.references)
