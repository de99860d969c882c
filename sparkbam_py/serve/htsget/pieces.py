"""From virtual-offset spans of a BGZF file to the pieces of a ticket: byte ranges of the
original file, and ``data:`` blocks where a span starts or ends inside a BGZF block.

A client concatenates the pieces and reads them as one BGZF stream (htsget 1.3 "Response
data blocks"), so each piece must hold whole records.  Index chunks start and end at
record starts, but those can lie inside a block whose other bytes belong to records outside
the span (htsjdk/Picard write records across blocks).  Such a block's part inside the span
is inflated and deflated again as a new block, sent inline; whole blocks are sent as ranges.
"""
from __future__ import annotations

from typing import Iterable, List, NamedTuple, Optional

from ...bgzf.reader import BgzfReader
from ...bgzf.writer import DEFAULT_BLOCK_DATA_SIZE, compress_block
from ...pos import Pos

HEADER, BODY = "header", "body"


class Piece(NamedTuple):
    """Bytes ``[start, end)`` of the original file, or ``inline`` bytes (a data: URI)."""

    cls: str
    start: int = 0
    end: int = 0
    inline: Optional[bytes] = None

    @property
    def size(self) -> int:
        return len(self.inline) if self.inline is not None else self.end - self.start


def byte_span(start: int, end: int, cls: str = BODY) -> List[Piece]:
    return [Piece(cls, start, end)] if end > start else []


def inline(data: bytes, cls: str = BODY) -> Piece:
    return Piece(cls, inline=data)


def virtual_span(reader: BgzfReader, start: Pos, stop: Pos, cls: str = BODY) -> List[Piece]:
    """Pieces holding exactly the inflated bytes from ``start`` up to ``stop`` (exclusive)."""
    if stop <= start:
        return []
    if start.block_pos == stop.block_pos:
        return _recompressed(reader.block(start.block_pos).data[start.offset:stop.offset], cls)
    pieces: List[Piece] = []
    first = start.block_pos
    if start.offset > 0:
        block = reader.block(first)
        pieces += _recompressed(block.data[start.offset:], cls)
        first = block.end
    pieces += byte_span(first, stop.block_pos, cls)
    if stop.offset > 0:
        pieces += _recompressed(reader.block(stop.block_pos).data[:stop.offset], cls)
    return pieces


def _recompressed(data: bytes, cls: str) -> List[Piece]:
    if not data:
        return []
    blocks = b"".join(compress_block(data[i:i + DEFAULT_BLOCK_DATA_SIZE])
                      for i in range(0, len(data), DEFAULT_BLOCK_DATA_SIZE))
    return [inline(blocks, cls)]


def merged(pieces: Iterable[Piece], max_range: int) -> List[Piece]:
    """Adjacent ranges joined (up to ``max_range`` bytes each), adjacent inline pieces joined."""
    out: List[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if last is not None and last.cls == piece.cls:
            if piece.inline is not None and last.inline is not None:
                out[-1] = inline(last.inline + piece.inline, piece.cls)
                continue
            if piece.inline is None and last.inline is None and last.end == piece.start:
                out[-1] = Piece(piece.cls, last.start, piece.end)
                continue
        out.append(piece)
    return [part for piece in out for part in _capped(piece, max_range)]


def _capped(piece: Piece, max_range: int) -> List[Piece]:
    """A range cut into parts of at most ``max_range`` bytes: a client concatenates them
    anyway, and can retry one part alone ("Reliability & performance considerations")."""
    if piece.inline is not None or piece.size <= max_range:
        return [piece]
    return [Piece(piece.cls, at, min(at + max_range, piece.end)) for at in range(piece.start, piece.end, max_range)]
