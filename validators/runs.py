"""Moving over a file's inflated data in runs: growing a run, and mapping a ``stop`` Pos
into it. Shared by the split-start search and the every-position scans."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.pos import Pos


def extend_run(reader: BgzfReader, run: InflatedRun, from_index: int, min_bytes: int) -> InflatedRun:
    """The run from ``from_index`` on, grown with the following blocks to at least
    ``min_bytes`` (or to the end of the file). Index ``from_index`` becomes 0."""
    tail = run.tail(from_index)
    if run.at_end or len(tail) >= min_bytes:
        return tail
    return reader.read_run(int(run.block_starts[-1]), min_bytes, carry=tail)


def stop_index(run: InflatedRun, stop: Optional[Pos]) -> Tuple[int, bool]:
    """How many leading positions of the run lie before ``stop``, and whether ``stop`` is
    reached within the run (False: the stop lies beyond, later blocks may still count).

    ``stop`` need not be a block start: a split's range ends at any compressed byte ``e``
    and ``Pos(e, 0)`` then excludes every block starting at ``e`` or later.
    """
    if stop is None:
        return len(run), False
    block_starts, data_starts = run.block_starts, run.data_starts
    last = len(block_starts) - 1  # the sentinel: the block after the run
    k = int(np.searchsorted(block_starts, stop.block_pos, side="left"))
    if k > last:
        return len(run), False
    if block_starts[k] == stop.block_pos:
        if k == last:
            # The stop is in the first block after the run: only its offset 0 is here.
            return len(run), stop.offset == 0
        end = min(int(data_starts[k]) + stop.offset, int(data_starts[k + 1]))
        return max(end, 0), True
    return max(int(data_starts[k]), 0), True
