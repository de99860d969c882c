"""Sequential runs of inflated BGZF data: the path every full read of a file takes.

A walker asks for the next run (at least ``chunk_bytes`` of new data, after the bytes it
carries over from the previous one) and gets an :class:`~.run.InflatedRun`.  Two ways to
make it, with identical results:

* **Compiled** (:class:`NativeRuns`): compressed spans are read in large requests and a
  numba kernel inflates block after block straight into the run's buffer with libdeflate,
  checking header, ISIZE and CRC32 (:mod:`.native`).  No Python object per block, no join.
  The kernel never raises: at the first block it cannot take (a non-standard header, bad
  deflate data, a wrong ISIZE or CRC32, a block cut off by the end of the file) it stops,
  and that one block goes through the per-block path, which raises the precise typed error
  or, for a valid but unusual header, inflates it; the kernel then resumes after it.
* **Per block** (:class:`BlockRuns`): :meth:`BgzfReader.iter_blocks` and a join; used by
  readers that supply their own blocks, and where the kernels are off.
"""
from __future__ import annotations

import itertools
import sys
from typing import Iterator, List, Optional

import numpy as np

from ..errors import TruncatedError
from .blocks import is_empty_block, read_raw_block, warn_missing_eof_marker
from .constants import MAX_BLOCK_SIZE, MAX_INFLATED_SIZE, MIN_BLOCK_SIZE
from .inflate import inflate_block
from .reader import BgzfReader
from .run import InflatedRun
from . import native
from .. import kernels
from .native import NEEDS_INPUT, NEEDS_PYTHON

# Compressed bytes per read request: large enough that remote sources see few requests
# and the kernel runs many blocks per call.
COMPRESSED_SPAN = 16 * MAX_BLOCK_SIZE
_NO_STOP = np.iinfo(np.int64).max
_NO_ISAL_STATE = np.empty(0, dtype=np.uint64)  # the kernel's libdeflate path
# Run buffers a walk keeps for reuse: the one the carry still sees, and the one before.
SPARE_RUN_BUFFERS = 2



def open_runs(reader, start_block: int, chunk_bytes: int, reuse_buffer: bool = False,
              end_block: Optional[int] = None, inflater: str = native.LIBDEFLATE):
    """The runs of ``reader``'s data from the block at ``start_block``.

    ``reuse_buffer``: each run overwrites the previous one's buffer (for a caller that keeps
    nothing of a run once it asks for the next, such as a count).  ``end_block``: where the
    caller expects to stop (default: the end of the file), declared to :mod:`..kernels`, which
    loads the compiled kernels only for inputs large enough to repay loading them.
    ``inflater``: the compiled path's inflate, ``native.LIBDEFLATE`` or ``native.ISAL`` (the
    faster on text; libdeflate wherever ISA-L is missing).  Results are identical.
    """
    # Readers of another kind (block by block through caches) may not know the file's size.
    ends = [end for end in (end_block, getattr(reader, "size", None)) if end is not None]
    if ends:
        kernels.note_input(min(ends) - start_block)
    # Readers of another kind supply their own blocks (e.g. block by block through caches).
    if type(reader) is BgzfReader and native.available():
        return NativeRuns(reader, start_block, chunk_bytes, reuse_buffer, inflater)
    return BlockRuns(reader.iter_blocks(start_block), chunk_bytes)


class BlockRuns:
    """Runs joined from a stream of inflated blocks (each with ``start``, ``end``, ``data``)."""

    def __init__(self, blocks: Iterator, chunk_bytes: int):
        self.blocks, self.chunk_bytes = iter(blocks), chunk_bytes
        self.held = None  # a block read past a run's stop_at, first in the next run

    def next_run(self, carry: Optional[InflatedRun], wanted: Optional[int] = None,
                 stop_at: Optional[int] = None) -> InflatedRun:
        """The carry plus blocks until the run holds ``wanted`` new bytes (default: at least a
        chunk, and as much as is carried), stopping before a block that starts at or past
        compressed offset ``stop_at``."""
        taken: List = []
        # New blocks bring at least as much as is carried: a record longer than a chunk makes
        # the runs grow geometrically, so its bytes are copied a bounded number of times.
        have = -len(carry) if carry is not None and wanted is None else 0
        wanted = self.chunk_bytes if wanted is None else wanted
        for block in self._blocks():
            if stop_at is not None and block.start >= stop_at:
                self.held = block
                return InflatedRun.from_blocks(taken, block.start, False, carry)
            taken.append(block)
            have += len(block.data)
            if have >= wanted:
                return InflatedRun.from_blocks(taken, block.end, False, carry)
        next_block = taken[-1].end if taken else int(carry.block_starts[-1]) if carry is not None else 0
        return InflatedRun.from_blocks(taken, next_block, True, carry)

    def _blocks(self) -> Iterator:
        # Not a generator with ``yield from``: abandoning it mid-run would close self.blocks.
        if self.held is None:
            return self.blocks
        held, self.held = self.held, None
        return itertools.chain([held], self.blocks)


class NativeRuns:
    """Runs inflated by the compiled kernel, many blocks per call (see the module docstring)."""

    def __init__(self, reader, start_block: int, chunk_bytes: int, reuse_buffer: bool = False,
                 inflater: str = native.LIBDEFLATE):
        self.reader, self.chunk_bytes, self.reuse_buffer, self.inflater = reader, chunk_bytes, reuse_buffer, inflater
        self.kernel = _compiled_kernel()
        self.position = start_block  # the compressed offset of the next block to inflate
        self.span, self.span_start = np.empty(0, dtype=np.uint8), start_block
        self.buffer = np.empty(0, dtype=np.uint8)
        self.spare_buffers: List[np.ndarray] = []
        self.last_block_empty = False

    def next_run(self, carry: Optional[InflatedRun], wanted: Optional[int] = None,
                 stop_at: Optional[int] = None) -> InflatedRun:
        """As :meth:`BlockRuns.next_run`."""
        carried = len(carry) if carry is not None else 0
        # As in BlockRuns: the new data is at least a chunk plus as much as is carried.
        new_bytes = self.chunk_bytes + carried if wanted is None else wanted
        out = self._output_buffer(carried, new_bytes + MAX_INFLATED_SIZE)
        if carried:
            out[:carried] = carry.data
        starts, data_starts = _carried_tables(carry)
        produced = self._fill(out, carried, carried + new_bytes, starts, data_starts,
                              _NO_STOP if stop_at is None else stop_at)
        at_end = self.position >= self.reader.size
        if at_end:
            self._warn_without_eof_marker()
        starts.append(np.array([self.position], dtype=np.int64))
        data_starts.append(np.array([produced], dtype=np.int64))
        return InflatedRun(out[:produced], np.concatenate(starts), np.concatenate(data_starts), at_end)

    def _output_buffer(self, carried: int, capacity: int) -> np.ndarray:
        if not self.reuse_buffer:
            return self._unshared_buffer(carried + capacity)
        if len(self.buffer) < carried + capacity:
            # The carry still holds the old buffer, and the caller copies it from there.
            self.buffer = np.empty(carried + capacity, dtype=np.uint8)
        return self.buffer

    def _unshared_buffer(self, size: int) -> np.ndarray:
        """A buffer of at least ``size`` bytes that nothing outside this walk can see: one
        of the last runs' buffers once every view of it is gone (each numpy view, and so each
        run, chunk or Arrow buffer over one, holds a reference to it), else a new one.

        A new buffer of a few MB is fresh memory that the kernel zero-fills page by page on
        first touch; reusing one saves that (~0.1 s of system time per 500 MB inflated)."""
        spares = self.spare_buffers
        for k in range(len(spares)):
            # Unseen: its only references are the list's and getrefcount's argument.
            if len(spares[k]) >= size and sys.getrefcount(spares[k]) == 2:
                return spares[k]
        # Room to spare: the next run's size varies with the bytes it carries over.
        buffer = np.empty(size + size // 4, dtype=np.uint8)
        self.spare_buffers = [buffer] + self.spare_buffers[:SPARE_RUN_BUFFERS - 1]
        return buffer

    def _fill(self, out: np.ndarray, produced: int, wanted: int, starts: List, data_starts: List,
              stop_at: int) -> int:
        """Inflate blocks into ``out`` from ``produced`` until ``wanted``, ``stop_at`` or the end of file."""
        size = self.reader.size
        # The calling thread's decompressor: a walk may be resumed on another thread.
        decompressor = native.decompressor()
        isal_state = _isal_state() if self.inflater == native.ISAL else None
        if isal_state is None:
            isal_state = _NO_ISAL_STATE
        while produced < wanted and self.position < min(size, stop_at):
            offset = self._span_offset()
            table = max(2, (len(self.span) - offset) // MIN_BLOCK_SIZE + 1)
            block_starts = np.empty(table, dtype=np.int64)
            block_data = np.empty(table, dtype=np.int64)
            count, offset, produced, status, last_empty = self.kernel(
                decompressor, isal_state, self.span, offset, self.span_start, out, produced, wanted, stop_at,
                block_starts, block_data, self.reader.verify_checksums)
            if count:
                self.last_block_empty = bool(last_empty)
                starts.append(block_starts[:count])
                data_starts.append(block_data[:count])
            self.position = self.span_start + offset
            cut_off = status == NEEDS_INPUT and self._span_reaches_end() and self.position < size
            if status == NEEDS_PYTHON or cut_off:
                produced = self._inflate_one_in_python(out, produced, starts, data_starts)
        return produced

    def _span_offset(self) -> int:
        """Where the next block sits in the compressed span, reading a new span if fewer than
        a maximal block's bytes are left in it (so the kernel can always take one)."""
        offset = self.position - self.span_start
        if offset < 0 or len(self.span) - offset < MAX_BLOCK_SIZE and not self._span_reaches_end():
            channel = self.reader.channel
            data = getattr(channel, "read_through", channel.read_at)(self.position, COMPRESSED_SPAN)
            self.span, self.span_start, offset = np.frombuffer(data, dtype=np.uint8), self.position, 0
        return offset

    def _span_reaches_end(self) -> bool:
        return self.span_start + len(self.span) >= self.reader.size

    def _inflate_one_in_python(self, out: np.ndarray, produced: int, starts: List, data_starts: List) -> int:
        """The block at ``position`` through the per-block path: its typed error, or its data."""
        header, raw = read_raw_block(self.reader.channel, self.position)
        data = inflate_block(raw, header, self.reader.path, self.reader.verify_checksums)
        out[produced:produced + len(data)] = np.frombuffer(data, dtype=np.uint8)
        starts.append(np.array([self.position], dtype=np.int64))
        data_starts.append(np.array([produced], dtype=np.int64))
        self.last_block_empty = is_empty_block(header, len(data))
        self.position = header.end
        return produced + len(data)

    def _warn_without_eof_marker(self) -> None:
        if not self.last_block_empty:
            warn_missing_eof_marker(self.reader.path, stacklevel=3)
            self.last_block_empty = True  # warn once per walk


def _carried_tables(carry: Optional[InflatedRun]):
    if carry is None or not len(carry):
        return [], []
    return [carry.block_starts[:-1]], [carry.data_starts[:-1]]


def _compiled_kernel():
    from .native_kernel import inflate_blocks_kernel  # imports numba: only on this path

    return inflate_blocks_kernel


def _isal_state():
    from .isal_state import isal_state  # its check runs the compiled kernel: only on this path

    return isal_state()
