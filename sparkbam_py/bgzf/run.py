"""A run of consecutive BGZF blocks' data, concatenated, with a map back to positions.

Record walks, record-boundary checks and split searches all work on runs: a record,
its name or even its block_size field can cross any number of block boundaries, and in a
run it is just a contiguous slice. Positions follow htslib's convention: the byte right
after the last byte of block X's data is ``Pos(next block after X, 0)``, never
``Pos(X, len(X))``, so every byte has exactly one name.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from ..pos import Pos, UOFFSET_BITS


class InflatedRun:
    """``raw``/``data``: the bytes; ``block_starts[k]`` and ``data_starts[k]``: where block k
    starts in the file and in ``raw`` (negative for a block whose start was carried away).

    A sentinel entry after the last block names the end of the run: ``Pos(next_block, 0)``.
    ``at_end`` says the run reaches the end of the file's BGZF data.
    """

    __slots__ = ("raw", "data", "block_starts", "data_starts", "at_end")

    def __init__(self, raw: bytes, block_starts: Sequence[int], data_starts: Sequence[int], at_end: bool):
        self.raw = raw
        self.data = np.frombuffer(raw, dtype=np.uint8)
        self.block_starts = np.asarray(block_starts, dtype=np.int64)
        self.data_starts = np.asarray(data_starts, dtype=np.int64)
        self.at_end = at_end

    @classmethod
    def from_blocks(cls, blocks, next_block: int, at_end: bool, carry: Optional["InflatedRun"] = None) -> "InflatedRun":
        """Concatenate ``blocks`` (each with ``start`` and ``data``) after an optional carry."""
        parts: List[bytes] = []
        starts: List[int] = []
        data_starts: List[int] = []
        length = 0
        if carry is not None and len(carry.raw):
            parts.append(carry.raw)
            starts.extend(carry.block_starts[:-1].tolist())
            data_starts.extend(carry.data_starts[:-1].tolist())
            length = len(carry.raw)
        for block in blocks:
            starts.append(block.start)
            data_starts.append(length)
            parts.append(block.data)
            length += len(block.data)
        starts.append(next_block)
        data_starts.append(length)
        return cls(b"".join(parts), starts, data_starts, at_end)

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def end_pos(self) -> Pos:
        return Pos(int(self.block_starts[-1]), 0)

    def _block_index(self, indices: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.data_starts, indices, side="left")
        exact = self.data_starts[np.minimum(k, len(self.data_starts) - 1)] == indices
        return np.where(exact, k, k - 1)

    def virtual_offsets(self, indices) -> np.ndarray:
        """The 64-bit virtual offsets of the bytes at ``indices`` (0 <= index <= len)."""
        indices = np.asarray(indices, dtype=np.int64)
        k = self._block_index(indices)
        return (self.block_starts[k] << UOFFSET_BITS) | (indices - self.data_starts[k])

    def pos_at(self, index: int) -> Pos:
        return Pos.from_virtual(int(self.virtual_offsets(np.array([index]))[0]))

    def index_of(self, pos: Pos) -> int:
        """The index in ``raw`` of ``pos``; ValueError if its block is not in the run."""
        k = int(np.searchsorted(self.block_starts, pos.block_pos))
        if k >= len(self.block_starts) or self.block_starts[k] != pos.block_pos:
            raise ValueError(f"block {pos.block_pos} is not in this run")
        return int(self.data_starts[k]) + pos.offset

    def tail(self, index: int) -> "InflatedRun":
        """The run from ``index`` on, keeping the blocks that hold those bytes (to carry over)."""
        k = int(self._block_index(np.array([min(index, len(self.raw))]))[0])
        return InflatedRun(
            self.raw[index:],
            self.block_starts[k:],
            self.data_starts[k:] - index,
            self.at_end,
        )
