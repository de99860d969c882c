"""The full checker: why is there no record here? Every failing check, for every position.

For each position: all failing checks of the first record of its chain that fails, and
how many records passed before it (spark-bam's ``readsBeforeError``); flags 0 when the
chain held (``reads_before`` then says how many records it covered). Every check is
evaluated, none stops the others, so the flags of non-record positions show each check's
margin and what the eager veto set may safely drop.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sparkbam_py.config import DEFAULT_READS_TO_CHECK
from sparkbam_py.errors import ConfigError

from .chain import ChainResult, follow_chains
from .fields import RunView
from .flags import ALL_FLAGS, show
from .records import RecordChecks, References, check_records


# Positions per numpy pass: the dozen temporary arrays of a pass stay in cache.
RANGE_CHUNK = 1 << 16


class FullResult(NamedTuple):
    """One position's verdict, for people and JSON."""

    flags: int
    reads_before_error: int

    @property
    def is_record(self) -> bool:
        return self.flags == 0

    def __str__(self) -> str:
        if self.flags == 0:
            return f"success ({self.reads_before_error} records)"
        return show(self.flags, self.reads_before_error)


class FullChecker:
    """Every check, no early exit; chains followed for positions whose own record passed."""

    name = "full"

    def __init__(self, refs: References, reads_to_check: int = DEFAULT_READS_TO_CHECK):
        if reads_to_check < 1:
            raise ConfigError(f"reads_to_check must be at least 1, got {reads_to_check}")
        self.refs = refs
        self.reads_to_check = reads_to_check

    def records_range(self, view: RunView, lo: int, hi: int) -> RecordChecks:
        """Flags of the record that would start at each position of ``[lo, hi)`` alone."""
        parts = [check_records(view, (start, min(start + RANGE_CHUNK, hi)), self.refs, ALL_FLAGS, early=False)
                 for start in range(lo, max(hi, lo + 1), RANGE_CHUNK)]
        if len(parts) == 1:
            return parts[0]
        return RecordChecks(*(np.concatenate(arrays) for arrays in zip(*parts)))

    def results_range(self, view: RunView, lo: int, hi: int) -> ChainResult:
        first = self.records_range(view, lo, hi)
        return follow_chains(view, first, lambda at: self._check_with(view, at), self.reads_to_check, (lo, first))

    def results_at(self, view: RunView, indices: np.ndarray) -> ChainResult:
        first = self._check_with(view, np.asarray(indices, dtype=np.int64))
        return follow_chains(view, first, lambda at: self._check_with(view, at), self.reads_to_check)

    # The scanning drivers' names for the same two calls.
    calls_range = results_range
    calls_at = results_at

    def result_at(self, view: RunView, index: int) -> FullResult:
        """One position, decided (the run must reach far enough, or the end of the file)."""
        chain = self.results_at(view, np.array([index]))
        if chain.need_more[0]:
            raise ValueError(f"the run ends before position {index}'s chain is decided")
        return FullResult(int(chain.flags[0]), int(chain.reads_before[0]))

    def _check_with(self, view: RunView, at: np.ndarray) -> RecordChecks:
        return check_records(view, at, self.refs, ALL_FLAGS, early=False)
