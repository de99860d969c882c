"""The indexed checker: ground truth, the record starts themselves.

From spark-bam's ``.records`` sidecar (``blockPos,offset`` per line, as ``index-records``
writes it) when one sits beside the BAM, else computed by walking the block_size chain
from the header's end (no record decoded, nothing guessed).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from sparkbam_py.bam.file import BamFile
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.pos import Pos, UOFFSET_BITS, UOFFSET_MASK

from .eager import EagerCalls
from .fields import RunView

RECORDS_SUFFIX = ".records"


def read_records_file(path) -> np.ndarray:
    """Sorted virtual offsets from a ``.records`` file."""
    text = Path(path).read_text(encoding="ascii")
    if not text.strip():
        return np.zeros(0, dtype=np.int64)
    try:
        pairs = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise IndexFormatError(f"not a .records file (blockPos,offset per line): {error}", str(path)) from None
    virtual = (pairs[:, 0] << UOFFSET_BITS) | pairs[:, 1]
    if len(virtual) > 1 and np.any(np.diff(virtual) <= 0):
        raise IndexFormatError("record positions are not strictly increasing", str(path))
    return virtual


def walk_record_positions(bam: BamFile) -> np.ndarray:
    """Virtual offsets of every record, by walking the chain from the header's end."""
    parts = [chunk.virtual_offsets() for chunk in bam.iter_record_chunks()]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def record_positions(bam: BamFile, records_path: Optional[str] = None) -> Tuple[np.ndarray, str]:
    """The true record starts, and where they came from (the ``.records`` path or "walk")."""
    candidate = Path(records_path) if records_path else Path(f"{bam.path}{RECORDS_SUFFIX}")
    if records_path or (candidate.is_file() and "://" not in str(bam.path)):
        return read_records_file(candidate), str(candidate)
    return walk_record_positions(bam), "walk"


class IndexedChecker:
    """Calls from the truth: accepted exactly at the record starts."""

    name = "indexed"

    def __init__(self, virtual_offsets: np.ndarray):
        self.virtual = np.asarray(virtual_offsets, dtype=np.int64)

    def calls_at(self, view: RunView, indices: np.ndarray) -> EagerCalls:
        virtual = view.run.virtual_offsets(np.asarray(indices, dtype=np.int64))
        accepted = np.isin(virtual, self.virtual)
        return EagerCalls(accepted, np.zeros(len(accepted), dtype=bool))

    def calls_range(self, view: RunView, lo: int, hi: int) -> EagerCalls:
        accepted = np.zeros(max(hi - lo, 0), dtype=bool)
        accepted[self.indices_in(view.run, lo, hi) - lo] = True
        return EagerCalls(accepted, np.zeros(len(accepted), dtype=bool))

    def indices_in(self, run, lo: int, hi: int) -> np.ndarray:
        """Run indices of the record starts in ``[lo, hi)``."""
        if hi <= lo:
            return np.zeros(0, dtype=np.int64)
        start, stop = run.virtual_offsets(np.array([lo, hi]))
        inside = self.virtual[np.searchsorted(self.virtual, start):np.searchsorted(self.virtual, stop)]
        blocks = np.searchsorted(run.block_starts, inside >> UOFFSET_BITS)
        return run.data_starts[blocks] + (inside & UOFFSET_MASK)

    def first_call(self, view: RunView, lo: int, hi: int) -> Tuple[Optional[int], bool]:
        start, stop = view.run.virtual_offsets(np.array([lo, hi]))
        k = int(np.searchsorted(self.virtual, start, side="left"))
        if k < len(self.virtual) and self.virtual[k] < stop:
            return int(view.run.index_of(Pos.from_virtual(int(self.virtual[k])))), False
        return None, False

    def next_start(self, pos: Pos) -> Optional[Pos]:
        """The first true record start at or after ``pos``."""
        k = int(np.searchsorted(self.virtual, pos.virtual, side="left"))
        return Pos.from_virtual(int(self.virtual[k])) if k < len(self.virtual) else None
