"""BGZF virtual positions (SAMv1 §4.1.1).

A virtual offset packs the compressed byte offset of a BGZF block (48 bits) and an offset
into that block's inflated data (16 bits): ``coffset << 16 | uoffset``.
"""
from __future__ import annotations

from typing import NamedTuple

# SAMv1 §4.1.1: the in-block offset occupies the low 16 bits of a virtual offset.
UOFFSET_BITS = 16
UOFFSET_MASK = (1 << UOFFSET_BITS) - 1


class Pos(NamedTuple):
    """A record or byte position: the block's compressed start and the offset in its data.

    A NamedTuple, so ordering is lexicographic on ``(block_pos, offset)``, which is the
    order of virtual offsets, and instances are tiny and pickle cheaply. Printed as
    ``block:offset``.

    Attributes:
        block_pos: the compressed byte offset of the BGZF block (CRAM: of the container).
        offset: the offset into the block's inflated data.
    """

    block_pos: int
    offset: int

    def __str__(self) -> str:
        return f"{self.block_pos}:{self.offset}"

    def __repr__(self) -> str:
        return f"Pos({self.block_pos}:{self.offset})"

    @property
    def virtual(self) -> int:
        """The 64-bit virtual offset (``block_pos << 16 | offset``)."""
        return (self.block_pos << UOFFSET_BITS) | self.offset

    @classmethod
    def from_virtual(cls, voffset: int) -> "Pos":
        """The position of a 64-bit virtual offset (``file_position``, an index's offsets)."""
        if voffset < 0:
            raise ValueError(f"negative virtual offset {voffset}")
        return cls(voffset >> UOFFSET_BITS, voffset & UOFFSET_MASK)

    @classmethod
    def parse(cls, text: str) -> "Pos":
        """Parse ``"block:offset"`` (the printed form)."""
        block, sep, offset = text.strip().partition(":")
        if not sep:
            raise ValueError(f"expected 'block:offset', got {text!r}")
        return cls(int(block), int(offset))
