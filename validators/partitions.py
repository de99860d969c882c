"""One Spark task's share of the check commands: a partition of BGZF blocks, checked.

Each function takes a :class:`PartitionTask` (picklable, shipped to an executor), opens the
BAM there, and returns plain dicts and lists the driver merges. No pyspark here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from sparkbam_py.bam.file import BamFile, open_bam
from sparkbam_py.bgzf.blocks import BlockInfo
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import RecordStartNotFoundError
from sparkbam_py.pos import Pos

from .describe import inflated_distance, read_info
from .eager import EagerChecker
from .fields import RunView
from .full import FullChecker
from .hadoop_bam import HadoopBamChecker
from .indexed import IndexedChecker
from .records import References
from .scan import contiguous_stretches, decide_all, decide_at, read_stretch
from .search import next_record_start

CHECKER_NAMES = ("eager", "hadoop_bam")


@dataclass(frozen=True)
class PartitionTask:
    """Blocks to check, and the true record starts from the first of them through the
    first one after them (virtual offsets)."""

    path: str
    blocks: Tuple[BlockInfo, ...]
    truth: np.ndarray
    config: CheckerConfig = CheckerConfig()
    checkers: Tuple[str, ...] = CHECKER_NAMES
    print_limit: int = 1_000_000
    # check-blocks: the compressed size of the block before each block (1 for the first).
    previous_sizes: Tuple[int, ...] = field(default=())


def make_checker(name: str, bam: BamFile, config: CheckerConfig):
    refs = References.of(bam.header)
    if name == "eager":
        return EagerChecker(refs, config.reads_to_check)
    if name == "hadoop_bam":
        return HadoopBamChecker(bam.header.n_ref, bam.size)
    if name == "full":
        return FullChecker(refs, config.reads_to_check)
    raise ValueError(f"unknown checker {name!r}; known: eager, hadoop_bam, full")


def describe_positions(bam: BamFile, truth: IndexedChecker, run, indices: np.ndarray, full: FullChecker,
                       reads_before: Optional[np.ndarray] = None, flags: Optional[np.ndarray] = None) -> List[dict]:
    """For each position: its name, the full checker's verdict, and the next true read."""
    if flags is None:
        verdicts = decide_at(bam.reader, run, indices, full)
        flags, reads_before = verdicts.flags, verdicts.reads_before
    described = []
    for index, mask, passed in zip(indices.tolist(), flags.tolist(), reads_before.tolist()):
        pos = run.pos_at(index)
        entry = {"pos": str(pos), "flags": int(mask), "reads_before_error": int(passed), "next_read": None}
        following = truth.next_start(pos)
        if following is not None:
            try:
                distance = int(run.index_of(following)) - index
            except ValueError:
                distance = inflated_distance(bam.reader, pos, following)
            entry["next_read"] = read_info(bam.reader, bam.header, following, distance).as_json()
        described.append(entry)
    return described


def check_bam_partition(task: PartitionTask) -> dict:
    """Every position of the blocks, each checker's call against the truth."""
    out = {"positions": 0, "compressed": 0, "reads": 0,
           "checkers": {name: {"tp": 0, "fp": 0, "tn": 0, "fn": 0, "false_positives": [], "false_negatives": []}
                        for name in task.checkers}}
    truth = IndexedChecker(task.truth)
    with open_bam(task.path, task.config.verify_checksums) as bam:
        full = FullChecker(References.of(bam.header), task.config.reads_to_check)
        checkers = {name: make_checker(name, bam, task.config) for name in task.checkers}
        for blocks in contiguous_stretches(task.blocks):
            stretch = read_stretch(bam.reader, blocks)
            run, end = stretch.run, stretch.end
            is_record = truth.calls_range(RunView(run), 0, end).accepted
            out["positions"] += end
            out["compressed"] += sum(block.compressed_size for block in blocks)
            out["reads"] += int(np.count_nonzero(is_record))
            for name, checker in checkers.items():
                calls = decide_all(bam.reader, run, 0, end, checker).accepted
                tally = out["checkers"][name]
                for key, mask in (("tp", calls & is_record), ("fp", calls & ~is_record),
                                  ("tn", ~calls & ~is_record), ("fn", ~calls & is_record)):
                    tally[key] += int(np.count_nonzero(mask))
                for key, mask in (("false_positives", calls & ~is_record), ("false_negatives", ~calls & is_record)):
                    room = task.print_limit - len(tally[key])
                    wrong = np.flatnonzero(mask)[: max(room, 0)]
                    if len(wrong):
                        tally[key].extend(describe_positions(bam, truth, run, wrong, full))
    return out


def full_check_partition(task: PartitionTask) -> dict:
    """The full checker on every position: flag totals, near misses, and its disagreements
    with the truth (there should be none)."""
    out = {"positions": 0, "compressed": 0, "reads": 0, "mismatches": [], "mismatch_count": 0,
           "flag_masks": [], "reads_before": {}, "singles": [], "doubles": []}
    truth = IndexedChecker(task.truth)
    masks: List[np.ndarray] = []
    counts: Dict[Tuple[int, int], int] = {}
    with open_bam(task.path, task.config.verify_checksums) as bam:
        full = FullChecker(References.of(bam.header), task.config.reads_to_check)
        for blocks in contiguous_stretches(task.blocks):
            stretch = read_stretch(bam.reader, blocks)
            run, end = stretch.run, stretch.end
            is_record = truth.calls_range(RunView(run), 0, end).accepted
            result = decide_all(bam.reader, run, 0, end, full)
            out["positions"] += end
            out["compressed"] += sum(block.compressed_size for block in blocks)
            out["reads"] += int(np.count_nonzero(is_record))
            wrong = np.flatnonzero((result.flags == 0) != is_record)
            out["mismatch_count"] += len(wrong)
            out["mismatches"] += [str(run.pos_at(int(i))) for i in wrong[: task.print_limit]]
            flags, before = result.flags, result.reads_before
            # spark-bam leaves out the last bytes, where only "fewer than 36 bytes" fails.
            considered = (flags != 0) & ~((flags == 1) & (before == 0))
            masks.append(flags[considered])
            for n, c in zip(*np.unique(before[considered & (before > 0)], return_counts=True)):
                out["reads_before"][int(n)] = out["reads_before"].get(int(n), 0) + int(c)
            fields = np.bitwise_count(flags) + (before > 0)
            for key, how_many in (("singles", 1), ("doubles", 2)):
                near = np.flatnonzero(considered & (fields == how_many))
                for mask, passed in zip(flags[near].tolist(), before[near].tolist()):
                    counts[(how_many, mask, passed)] = counts.get((how_many, mask, passed), 0) + 1
                room = max(task.print_limit - len(out[key]), 0)
                chosen = near[:room]
                out[key] += describe_positions(bam, truth, run, chosen, full, before[chosen], flags[chosen])
    combined = np.concatenate(masks) if masks else np.zeros(0, dtype=np.uint32)
    out["flag_masks"] = {int(m): int(c) for m, c in zip(*np.unique(combined, return_counts=True))}
    out["near_miss_counts"] = [[n, m, p, c] for (n, m, p), c in counts.items()]
    return out


def check_blocks_partition(task: PartitionTask) -> dict:
    """Per block: the first record start each checker finds from the block's start, vs the
    truth's; a mismatch weighs the previous block's compressed size."""
    truth = IndexedChecker(task.truth)
    out = {"blocks": 0, "compressed": 0, "first_offsets": [],
           "checkers": {name: {"mismatched": 0, "bad_positions": 0, "mismatches": []} for name in task.checkers}}
    with open_bam(task.path, task.config.verify_checksums) as bam:
        checkers = {name: make_checker(name, bam, task.config) for name in task.checkers}
        for block, previous_size in zip(task.blocks, task.previous_sizes):
            start = Pos(block.start, 0)
            expected = truth.next_start(start)
            out["blocks"] += 1
            out["compressed"] += block.compressed_size
            out["first_offsets"].append(expected.offset if expected and expected.block_pos == block.start else None)
            for name, checker in checkers.items():
                actual = _search(bam, start, checker, task.config)
                if actual != expected:
                    tally = out["checkers"][name]
                    tally["mismatched"] += 1
                    tally["bad_positions"] += previous_size
                    if len(tally["mismatches"]) < task.print_limit:
                        tally["mismatches"].append([block.start, previous_size, _text(expected), _text(actual)])
    return out


def _search(bam: BamFile, start: Pos, checker, config: CheckerConfig) -> Optional[Pos]:
    try:
        return next_record_start(bam.reader, start, checker, config.max_read_size)
    except RecordStartNotFoundError:
        return None  # as spark-bam's nextReadStart: nothing within max_read_size


def _text(pos: Optional[Pos]) -> Optional[str]:
    return None if pos is None else str(pos)


def truth_slice(truth: np.ndarray, blocks: Sequence[BlockInfo]) -> np.ndarray:
    """The record starts a partition needs: those in its blocks' span and the next one."""
    first = Pos(blocks[0].start, 0).virtual
    last = Pos(blocks[-1].start + blocks[-1].compressed_size, 0).virtual
    lo = int(np.searchsorted(truth, first, side="left"))
    hi = int(np.searchsorted(truth, last, side="left"))
    return truth[lo : hi + 1].copy()
