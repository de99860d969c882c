"""Random and sequential access to a BGZF file's inflated data.

``BgzfReader`` keeps a small LRU of inflated blocks, because a split's record search
revisits the same few blocks, and offers the runs of blocks that walkers and checkers use.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple, Optional, Tuple

from cachetools import LRUCache

from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK, DEFAULT_INFLATED_BLOCK_CACHE
from ..errors import TruncatedError
from ..pos import Pos
from .blocks import iter_raw_blocks, read_raw_block
from .inflate import inflate_block
from .run import InflatedRun
from .search import find_block_start


class Block(NamedTuple):
    """A block's compressed start and size, and its inflated data."""

    start: int
    size: int
    data: bytes

    @property
    def end(self) -> int:
        return self.start + self.size


class BgzfReader:
    """Inflated blocks of one BGZF file, over a channel (``path``, ``size``, ``read_at``).

    Every block's CRC32 is checked unless ``verify_checksums`` is False.
    """

    def __init__(self, channel, cache_blocks: int = DEFAULT_INFLATED_BLOCK_CACHE, verify_checksums: bool = True):
        self.channel = channel
        self.verify_checksums = verify_checksums
        self._cache: LRUCache = LRUCache(maxsize=cache_blocks)

    @property
    def path(self) -> str:
        return self.channel.path

    @property
    def size(self) -> int:
        return self.channel.size

    def block(self, start: int) -> Block:
        """The block starting at compressed offset ``start`` (cached)."""
        block = self._cache.get(start)
        if block is None:
            header, raw = read_raw_block(self.channel, start)
            block = Block(start, header.block_size, inflate_block(raw, header, self.path, self.verify_checksums))
            self._cache[start] = block
        return block

    def iter_blocks(self, start: int = 0, stop: Optional[int] = None) -> Iterator[Block]:
        """Blocks in file order from ``start`` while their start is below ``stop``.

        Sequential: reads large spans and bypasses the block cache.
        """
        for header, raw in iter_raw_blocks(self.channel, start, stop):
            yield Block(header.start, header.block_size, inflate_block(raw, header, self.path, self.verify_checksums))

    def find_block_start(self, offset: int, blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK) -> int:
        return find_block_start(self.channel, offset, blocks_to_check)

    def read_run(self, first_block: int, min_bytes: int, carry: Optional[InflatedRun] = None) -> InflatedRun:
        """Blocks from ``first_block`` on, until the run (with ``carry``) holds ``min_bytes``
        or the file ends. Cached access: meant for the short runs of record searches."""
        blocks = []
        have = len(carry) if carry is not None else 0
        start = first_block
        size = self.size
        while start < size and have < min_bytes:
            block = self.block(start)
            blocks.append(block)
            have += len(block.data)
            start = block.end
        return InflatedRun.from_blocks(blocks, start, start >= size, carry)

    def read(self, pos: Pos, n: int) -> Tuple[bytes, Pos]:
        """``n`` inflated bytes from ``pos``, crossing blocks, and the position after them."""
        run = self.read_run(pos.block_pos, pos.offset + n)
        end = pos.offset + n
        if end > len(run):
            raise TruncatedError(f"needed {n} bytes, the data ends after {len(run) - pos.offset}", self.path, pos)
        return run.raw[pos.offset : end], run.pos_at(end)
