"""The eager checker: does a BAM record start here? A yes/no per position, fast.

A position is accepted when the record it implies fails none of the veto checks and so do
the records chained after it, ``reads_to_check`` (10) in all, or the data ends exactly at
a record boundary after at least one good record. Records may cross any number of BGZF
blocks. The veto set and the measurements behind it: see ``validators/README.md``.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Optional, Tuple

import numpy as np

from sparkbam_py.config import DEFAULT_READS_TO_CHECK
from sparkbam_py.errors import ConfigError

from .chain import ChainResult, follow_chains
from .fields import RunView
from .flags import mask_of
from .records import RecordChecks, References, check_records

# Without these the chain itself means nothing (a record must fit in the data, its length
# must cover its parts, its name must exist): they are always vetoes.
STRUCTURAL_VETOES: Tuple[str, ...] = (
    "tooFewFixedBlockBytes",
    "tooFewBytesForReadName",
    "tooFewBytesForCigarOps",
    "tooFewRemainingBytesImplied",
    "negativeSeqLength",
    "noReadName",
)

# The default veto set, chosen by measuring both error kinds over the corpus with the full
# checker (figures in validators/README.md): 0 false positives, 0 false negatives. Left out,
# because real records fail them: tooLargeReadPos, tooLargeNextReadPos, negativeNextReadPos,
# tooLargeNextReadIdx, nonASCIIReadName, emptyMappedCigar, emptyMappedSeq, emptyMappedRead,
# cigarSeqLengthMismatch. Left out because they are semantic and bought nothing:
# negativeNextReadIdx, nonPrintableReadName, unknownFlagBits. nulInReadName is what rejects
# the fake record in modkit's ecoli_reg.call_mods.bam (a chain of real records follows it).
DEFAULT_VETOES: Tuple[str, ...] = STRUCTURAL_VETOES + (
    "negativeReadIdx",
    "tooLargeReadIdx",
    "negativeReadPos",
    "emptyReadName",
    "nonNullTerminatedReadName",
    "nulInReadName",
    "invalidCigarOp",
)


class EagerCalls(NamedTuple):
    """Per position: accepted as a record start; or undecided because the run ended."""

    accepted: np.ndarray  # bool
    need_more: np.ndarray  # bool


class EagerChecker:
    """Record-start calls for whole ranges or index arrays of one run at a time."""

    name = "eager"

    def __init__(self, refs: References, reads_to_check: int = DEFAULT_READS_TO_CHECK,
                 vetoes: Optional[Iterable[str]] = None):
        if reads_to_check < 1:
            raise ConfigError(f"reads_to_check must be at least 1, got {reads_to_check}")
        chosen = DEFAULT_VETOES if vetoes is None else tuple(vetoes)
        self.refs = refs
        self.reads_to_check = reads_to_check
        self.vetoes = mask_of(chosen) | mask_of(STRUCTURAL_VETOES)

    def calls_range(self, view: RunView, lo: int, hi: int) -> EagerCalls:
        """Calls for every position in ``[lo, hi)`` of the run."""
        return self._calls(view, (lo, hi))

    def calls_at(self, view: RunView, indices: np.ndarray) -> EagerCalls:
        return self._calls(view, np.asarray(indices, dtype=np.int64))

    def chains(self, view: RunView, where) -> ChainResult:
        first = self._check(view, where)
        table = (where[0], first) if isinstance(where, tuple) else None
        return follow_chains(view, first, lambda at: self._check(view, at), self.reads_to_check, table)

    def first_call(self, view: RunView, lo: int, hi: int) -> Tuple[Optional[int], bool]:
        """The first position of ``[lo, hi)`` that is accepted or undecided, and whether it
        is undecided (``(None, False)``: none). Follows chains only from the earliest
        candidates, in growing batches, as the split search needs."""
        first = self._check(view, (lo, hi))
        candidates = np.flatnonzero((first.flags == 0) | first.need_more)
        done, batch = 0, 1
        while done < len(candidates):
            chosen = candidates[done : done + batch]
            own = RecordChecks(first.flags[chosen], first.need_more[chosen], first.next_start[chosen])
            result = follow_chains(view, own, lambda at: self._check(view, at), self.reads_to_check, (lo, first))
            decided = np.flatnonzero(result.accepted | result.need_more)
            if len(decided):
                hit = decided[0]
                return lo + int(chosen[hit]), bool(result.need_more[hit])
            done, batch = done + batch, 2 * batch
        return None, False

    def _check(self, view: RunView, where):
        return check_records(view, where, self.refs, self.vetoes, early=True)

    def _calls(self, view: RunView, where) -> EagerCalls:
        chains = self.chains(view, where)
        return EagerCalls(chains.accepted, chains.need_more)
