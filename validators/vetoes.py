"""Weighing checks as vetoes: what each would cost and buy over a whole file.

For one BAM: the full checker's flags of the record that would start at every position
(one pass), then, for each candidate veto set, the eager decision at every position,
through the same chain code the eager checker runs, and its false positives and false
negatives against the true record starts. Also, per check, how many true records fail it
(what vetoing it alone would lose). ``bench/correctness.py --vetoes`` runs this over a
corpus; ``validators/README.md`` records the figures behind ``eager.DEFAULT_VETOES``.
"""
from __future__ import annotations

from typing import Dict, Iterable, Mapping, Tuple

import numpy as np

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.layout import FIXED_FIELDS_SIZE

from .chain import follow_chains
from .eager import DEFAULT_VETOES
from .fields import RunView
from .flags import BIT, FLAG_NAMES, flag_names, mask_of
from .full import FullChecker
from .indexed import IndexedChecker, walk_record_positions
from .records import RecordChecks, References, check_records

# Examples kept per veto set and error kind.
EXAMPLES = 5


def candidate_sets() -> Dict[str, Tuple[str, ...]]:
    """The default set; it without each of its checks; it with each other check added."""
    sets = {"default": DEFAULT_VETOES}
    for name in DEFAULT_VETOES:
        if not name.startswith("tooFewBytes") and name != "tooFewFixedBlockBytes":
            sets[f"default - {name}"] = tuple(n for n in DEFAULT_VETOES if n != name)
    for name in FLAG_NAMES:
        if name not in DEFAULT_VETOES:
            sets[f"default + {name}"] = DEFAULT_VETOES + (name,)
    sets["spark-bam's 19"] = FLAG_NAMES[:19]
    return sets


def measure_file(path: str, veto_sets: Mapping[str, Iterable[str]], reads_to_check: int = 10) -> dict:
    """``{"records", "positions", "record_failures": {check: n}, "sets": {name: [fp, fn,
    examples]}}`` for one (walkable) BAM."""
    with open_bam(path) as bam:
        truth = walk_record_positions(bam)
        run = bam.reader.read_run(0, bam.size * 64 + (1 << 20))
        refs = References.of(bam.header)
    view = RunView(run)
    is_record = IndexedChecker(truth).calls_range(view, 0, len(run)).accepted
    records = FullChecker(refs, reads_to_check).records_range(view, 0, len(run))
    failures = records.flags[is_record]
    out = {"records": int(is_record.sum()), "positions": len(run), "sets": {},
           "record_failures": {name: int(np.count_nonzero(failures & np.uint32(1 << i)))
                               for i, name in enumerate(FLAG_NAMES)}}
    for label, names in veto_sets.items():
        vetoes = mask_of(names)
        accepted = accepted_under(view, records, refs, vetoes, reads_to_check)
        wrong_starts = np.flatnonzero(accepted & ~is_record)
        lost = np.flatnonzero(~accepted & is_record)
        examples = [("FP", str(run.pos_at(int(i))), flag_names(int(records.flags[i]))) for i in wrong_starts[:EXAMPLES]]
        examples += [("FN", str(run.pos_at(int(i))), flag_names(int(records.flags[i]))) for i in lost[:EXAMPLES]]
        out["sets"][label] = [len(wrong_starts), len(lost), examples]
    return out


def accepted_under(view: RunView, records: RecordChecks, refs: References, vetoes: int,
                   reads_to_check: int) -> np.ndarray:
    """The eager decision at every position of a whole-file run, had ``vetoes`` been the
    veto set: the per-position record flags restricted to it, chained."""
    # A block_size too small to hold the fixed fields would chain backwards: the chain
    # stops there whatever the veto set (the eager checker always has the length check).
    backwards = records.next_start < np.arange(len(records.flags)) + FIXED_FIELDS_SIZE
    restricted = (records.flags & np.uint32(vetoes)) | np.where(backwards, np.uint32(BIT["tooFewRemainingBytesImplied"]), 0)
    first = RecordChecks(restricted.astype(np.uint32), records.need_more, records.next_start)

    def check(indices: np.ndarray) -> RecordChecks:  # only positions past the data's end
        return check_records(view, indices, refs, vetoes, early=True)

    return follow_chains(view, first, check, reads_to_check, (0, first)).accepted
