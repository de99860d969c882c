"""Checking every position of a stretch of BGZF blocks, with any checker, to a decision.

A stretch's positions are every inflated byte of its blocks. The run read for them goes
on past the stretch (chains and hadoop-bam's window look ahead); a position still
undecided when the run ends is checked again on a longer run, as often as needed.
"""
from __future__ import annotations

from typing import List, NamedTuple, Protocol, Sequence

import numpy as np

from sparkbam_py.bgzf.blocks import BlockInfo
from sparkbam_py.bgzf.constants import MAX_BLOCK_SIZE
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.bgzf.run import InflatedRun

from .fields import RunView
from .hadoop_bam import MAX_BYTES_READ
from .runs import extend_run

# Compressed bytes read past a stretch: hadoop-bam's whole window from the stretch's last
# block, which also holds the chains of ten records of all but long reads.
LOOKAHEAD_BYTES = MAX_BYTES_READ + MAX_BLOCK_SIZE


class Checker(Protocol):
    """Anything with calls over a range and at indices, returning a NamedTuple of arrays
    that includes ``need_more``."""

    def calls_range(self, view: RunView, lo: int, hi: int): ...

    def calls_at(self, view: RunView, indices: np.ndarray): ...


class Stretch(NamedTuple):
    """Blocks one after another in the file: ``run`` holds their data from index 0 to
    ``end`` (exclusive), and what follows them."""

    blocks: List[BlockInfo]
    run: InflatedRun
    end: int


def contiguous_stretches(blocks: Sequence[BlockInfo]) -> List[List[BlockInfo]]:
    """Group blocks (sorted) into maximal runs where each starts where the last ended."""
    stretches: List[List[BlockInfo]] = []
    for block in blocks:
        if stretches and stretches[-1][-1].start + stretches[-1][-1].compressed_size == block.start:
            stretches[-1].append(block)
        else:
            stretches.append([block])
    return stretches


def read_stretch(reader: BgzfReader, blocks: Sequence[BlockInfo], lookahead: int = LOOKAHEAD_BYTES) -> Stretch:
    """Inflate ``blocks`` (contiguous) and the blocks within ``lookahead`` bytes after them."""
    stop = blocks[-1].start + blocks[-1].compressed_size
    taken, at_end = [], True
    for block in reader.iter_blocks(blocks[0].start):
        if block.start >= stop + lookahead:
            at_end = False
            break
        taken.append(block)
    end = sum(len(block.data) for block in taken if block.start < stop)
    next_block = taken[-1].end if taken else blocks[0].start
    return Stretch(list(blocks), InflatedRun.from_blocks(taken, next_block, at_end), end)


def decide_all(reader: BgzfReader, run: InflatedRun, lo: int, hi: int, checker: Checker):
    """``checker``'s calls for positions ``[lo, hi)`` of ``run``, none left undecided."""
    result = checker.calls_range(RunView(run), lo, hi)
    return _resolve(reader, run, np.arange(lo, hi, dtype=np.int64), result, checker)


def decide_at(reader: BgzfReader, run: InflatedRun, indices: np.ndarray, checker: Checker):
    """``checker``'s calls at ``indices`` (sorted) of ``run``, none left undecided."""
    indices = np.asarray(indices, dtype=np.int64)
    return _resolve(reader, run, indices, checker.calls_at(RunView(run), indices), checker)


def _resolve(reader: BgzfReader, run: InflatedRun, indices: np.ndarray, result, checker: Checker):
    """Decide the calls ``result`` left open (``need_more``) on ever longer runs."""
    arrays = [np.array(values, copy=True) for values in result]
    pending = np.flatnonzero(result.need_more)  # rows of ``indices`` still undecided
    longer, base = run, 0  # index 0 of ``longer`` is index ``base`` of ``run``
    while len(pending):
        first = int(indices[pending].min())
        # Keep the undecided positions' data, and at least double what follows them.
        from_index = first - base
        longer = extend_run(reader, longer, from_index, 2 * (len(longer) - from_index) + LOOKAHEAD_BYTES)
        base = first
        fresh = checker.calls_at(RunView(longer), indices[pending] - base)
        for array, values in zip(arrays, fresh):
            array[pending] = values
        pending = pending[np.asarray(fresh.need_more)]
    return type(result)(*arrays)
