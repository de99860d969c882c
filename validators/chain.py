"""Following candidate records' block_size chains, many candidates at once.

A position is a record start only if the records it implies keep checking out: the one at
``P + 4 + block_size``, the one after it, and so on (spark-bam's check 10). Data that ends
exactly where the next record would start, after at least one good record, also counts:
that is how the last records of a file are accepted.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np

from .fields import RunView
from .records import RecordChecks


class ChainResult(NamedTuple):
    """Per starting position: the flags of the first failing record (0 when the chain held),
    how many records passed before it (or in all), and whether the run ended too soon."""

    flags: np.ndarray  # uint32
    reads_before: np.ndarray  # int64
    need_more: np.ndarray  # bool

    @property
    def accepted(self) -> np.ndarray:
        return (self.flags == 0) & ~self.need_more


def follow_chains(view: RunView, first: RecordChecks, check: Callable[[np.ndarray], RecordChecks],
                  reads_to_check: int, table: Optional[Tuple[int, RecordChecks]] = None) -> ChainResult:
    """Extend each candidate whose own record passed (``first``) along its chain, until
    ``reads_to_check`` records passed, one failed, or the data ran out.

    ``table``: ``(lo, checks)`` already computed for every position of ``[lo, lo + len)``.
    Records that start there are looked up rather than checked again (the next record of
    a true record is itself a candidate of the range); ``check`` sees only the others,
    each distinct position once per step.
    """
    flags = first.flags.copy()
    need_more = first.need_more.copy()
    reads_before = np.zeros(len(flags), dtype=np.int64)
    active = np.flatnonzero((flags == 0) & ~need_more)
    current = first.next_start[active]
    passed = 1
    while len(active) and passed < reads_to_check:
        if view.at_end:
            # The data ends exactly where the next record would start: a clean end.
            clean_end = current == view.n
            reads_before[active[clean_end]] = passed
            active, current = active[~clean_end], current[~clean_end]
        result = _checks_at(current, table, check)
        failed = result.flags != 0
        flags[active[failed]] = result.flags[failed]
        reads_before[active[failed]] = passed
        undecided = result.need_more & ~failed
        need_more[active[undecided]] = True
        going = ~failed & ~undecided
        active, current = active[going], result.next_start[going]
        passed += 1
    reads_before[active] = passed
    return ChainResult(flags, reads_before, need_more)


def _checks_at(positions: np.ndarray, table: Optional[Tuple[int, RecordChecks]],
               check: Callable[[np.ndarray], RecordChecks]) -> RecordChecks:
    """Record checks at ``positions``: looked up in ``table`` where it covers them, else
    computed once per distinct position."""
    flags = np.zeros(len(positions), dtype=np.uint32)
    need_more = np.zeros(len(positions), dtype=bool)
    next_start = np.zeros(len(positions), dtype=np.int64)
    if table is not None:
        lo, known_checks = table
        inside = (positions >= lo) & (positions < lo + len(known_checks.flags))
        known = positions[inside] - lo
        flags[inside], need_more[inside] = known_checks.flags[known], known_checks.need_more[known]
        next_start[inside] = known_checks.next_start[known]
        outside = np.flatnonzero(~inside)
    else:
        outside = np.arange(len(positions))
    if len(outside):
        distinct, back = np.unique(positions[outside], return_inverse=True)
        fresh = check(distinct)
        flags[outside], need_more[outside] = fresh.flags[back], fresh.need_more[back]
        next_start[outside] = fresh.next_start[back]
    return RecordChecks(flags, need_more, next_start)
