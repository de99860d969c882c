"""Finding the first record start at or after a position: how a split finds its start.

The search checks a whole window of positions at once (numpy through the fixed-field
checks, chains only for survivors), and reads further only when it must: when a candidate
earlier than any accepted one ran out of data, or when the window held no record start.
"""
from __future__ import annotations

from typing import Optional, Protocol, Tuple

from sparkbam_py.bam.header import BamHeader
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import RecordStartNotFoundError
from sparkbam_py.pos import Pos

from .eager import EagerChecker
from .fields import RunView
from .records import References
from .runs import extend_run, stop_index

# Positions checked per numpy pass. A split's first record is usually a few hundred bytes
# in; later windows grow, since a start that far in means long records or an empty range.
FIRST_WINDOW = 1 << 12
MAX_WINDOW = 1 << 21
# Inflated bytes read beyond a window: room for the chains of its last candidates
# (ten short reads fit many times); a long-read chain that needs more extends the run.
CHAIN_MARGIN = 1 << 14


class RangeChecker(Protocol):
    def first_call(self, view: RunView, lo: int, hi: int) -> Tuple[Optional[int], bool]: ...


def find_record_start(reader: BgzfReader, block_start: int, header: BamHeader,
                      config: CheckerConfig = CheckerConfig(), stop: Optional[Pos] = None) -> Optional[Pos]:
    """The first position ``>= Pos(block_start, 0)`` the eager checker accepts.

    ``None`` when the data ends, or the search reaches ``stop`` (positions ``>= stop`` are
    not considered), without a record start: the range is then simply empty.
    Raises :class:`RecordStartNotFoundError` after ``config.max_read_size`` positions.
    """
    checker = EagerChecker(References.of(header), config.reads_to_check)
    return next_record_start(reader, Pos(block_start, 0), checker, config.max_read_size, stop)


def next_record_start(reader: BgzfReader, start: Pos, checker: RangeChecker, max_positions: int,
                      stop: Optional[Pos] = None) -> Optional[Pos]:
    """The first position ``>= start`` (and ``< stop``) that ``checker`` accepts."""
    window = FIRST_WINDOW
    run = reader.read_run(start.block_pos, start.offset + window + CHAIN_MARGIN)
    lo = start.offset
    examined = 0
    while True:
        limit, stop_reached = stop_index(run, stop)
        hi = min(lo + window, len(run), limit, lo + max_positions - examined)
        if hi > lo:
            found, undecided = checker.first_call(RunView(run), lo, hi)
            if undecided:
                # A candidate ran out of data before anything earlier was accepted: read on
                # from it, with at least twice the data, and check again from there.
                examined += found - lo
                run = extend_run(reader, run, found, 2 * (len(run) - found) + CHAIN_MARGIN)
                lo = 0
                continue
            if found is not None:
                return run.pos_at(found)
            examined += hi - lo
        if stop_reached and hi >= limit:
            return None
        if examined >= max_positions:
            raise RecordStartNotFoundError(
                f"no record start accepted in {max_positions} positions (max_read_size)", reader.path, start)
        if run.at_end and hi >= len(run):
            return None
        window = min(2 * window, MAX_WINDOW)
        run = extend_run(reader, run, hi, window + CHAIN_MARGIN)
        lo = 0

