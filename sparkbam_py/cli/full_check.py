"""``full-check BAM``: the full checker on every position; how each check does on the
positions where no record starts.

Prints, in spark-bam's words: the check-bam summary against the truth (any position where
the full checker and the truth disagree is listed); the positions where exactly one check
failed ("critical": remove that check and they might pass); those where exactly two failed,
with a histogram of the pairs and per-flag totals; then every check's total over all
non-record positions. ``readsBeforeError`` counts as a check, as in spark-bam; positions in
the last 35 bytes, where only "fewer than 36 bytes left" fails, are left out.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, List

from ..bam.file import open_bam
from ..validators.flags import FLAG_NAMES, flag_names, show
from ..validators.partitions import full_check_partition
from .checker_app import add_arguments, plan, position_line, run_tasks, summary_lines
from .common import Command, Result


class FullCheck(Command):
    name = "full-check"
    help = "run the full checker on every position and report how each check fails"
    formats = ("bam",)

    def configure(self, parser):
        add_arguments(parser, with_checkers=False)

    def run(self, args) -> Result:
        self.input_format(args.bam)
        with open_bam(args.bam, args.verify_checksums) as bam:
            _, _, tasks = plan(args, bam, ("full",))
        parts = run_tasks("sparkbam full-check", full_check_partition, tasks)
        merged = merge_full_check(parts, args.print_limit)
        return Result(full_check_lines(merged), json_shape(merged), exit_code=1 if merged["mismatch_count"] else 0)


def merge_full_check(parts: List[dict], limit: int) -> dict:
    merged = {"positions": 0, "compressed": 0, "reads": 0, "mismatch_count": 0, "mismatches": [],
              "masks": Counter(), "reads_before": Counter(), "near": Counter(), "singles": [], "doubles": []}
    for part in parts:
        for key in ("positions", "compressed", "reads", "mismatch_count"):
            merged[key] += part[key]
        merged["mismatches"] += part["mismatches"][: max(limit - len(merged["mismatches"]), 0)]
        merged["masks"].update(part["flag_masks"])
        merged["reads_before"].update(part["reads_before"])
        for fields, mask, passed, count in part["near_miss_counts"]:
            merged["near"][(fields, mask, passed)] += count
        for key in ("singles", "doubles"):
            merged[key] += part[key][: max(limit - len(merged[key]), 0)]
    totals = Counter()
    for mask, count in merged["masks"].items():
        for name in flag_names(mask):
            totals[name] += count
    merged["totals"] = {name: totals.get(name, 0) for name in FLAG_NAMES}
    return merged


def _near(merged: dict, fields: int) -> Counter:
    return Counter({show(mask, passed): count for (n, mask, passed), count in merged["near"].items() if n == fields})


def full_check_lines(merged: dict) -> List[str]:
    lines = summary_lines(merged["positions"], merged["compressed"], merged["reads"])
    if merged["mismatch_count"]:
        lines.append(f"{merged['mismatch_count']} positions where the full checker disagrees with the truth:")
        lines += [f"\t{pos}" for pos in merged["mismatches"]]
    else:
        lines.append("All calls matched!")
    lines.append("")
    singles = _near(merged, 1)
    if singles:
        lines.append("Critical error counts (true negatives where only one check failed):")
        lines += _aligned(_per_check(merged, 1), "\t")
        lines.append(f"{sum(singles.values())} critical positions:")
        lines += [position_line(entry) for entry in merged["singles"]]
    else:
        lines.append("No positions where only one check failed")
    lines.append("")
    doubles = _near(merged, 2)
    total = sum(doubles.values())
    shown = len(merged["doubles"])
    head = f"{shown} of {total}" if shown < total else f"{total}"
    lines.append(f"{head} positions where exactly two checks failed:")
    lines += [position_line(entry) for entry in merged["doubles"]]
    if doubles and max(doubles.values()) > 1:
        lines += ["", "\tHistogram:"]
        lines += [f"\t\t{count}:\t{flags}" for flags, count in sorted(doubles.items(), key=lambda kv: (-kv[1], kv[0]))]
    if doubles:
        lines += ["", "\tPer-flag totals:"] + _aligned(_per_check(merged, 2), "\t\t")
    lines += ["", "Total error counts:"]
    ordered = sorted(((name, count) for name, count in merged["totals"].items() if name != FLAG_NAMES[0]),
                     key=lambda kv: (-kv[1], FLAG_NAMES.index(kv[0])))
    lines += [f"\t{name}:\t{count}" for name, count in ordered]
    if merged["reads_before"]:
        histogram = " ".join(f"{n}ⅹ{count}" for n, count in sorted(merged["reads_before"].items()))
        lines.append(f"\treadsBeforeError:\t{histogram}")
    return lines


def _per_check(merged: dict, fields: int) -> Dict[str, int]:
    """How often each check (and readsBeforeError) is among the ``fields`` failures."""
    counts: Counter = Counter()
    for (n, mask, passed), count in merged["near"].items():
        if n == fields:
            for name in flag_names(mask):
                counts[name] += count
            if passed:
                counts["readsBeforeError"] += count
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _aligned(counts: Dict[str, int], indent: str) -> List[str]:
    if not counts:
        return []
    width = max(len(name) for name in counts)
    digits = max(len(str(count)) for count in counts.values())
    return [f"{indent}{name:>{width}}:\t{count:>{digits}}" for name, count in counts.items()]


def json_shape(merged: dict) -> dict:
    def entries(kind: str) -> List[dict]:
        return [{"pos": e["pos"], "failing_checks": flag_names(e["flags"]),
                 "reads_before_error": e["reads_before_error"], "next_read": e["next_read"]} for e in merged[kind]]

    return {
        "positions": merged["positions"], "reads": merged["reads"], "compressed": merged["compressed"],
        "mismatches": merged["mismatch_count"], "mismatch_positions": merged["mismatches"],
        "totals": merged["totals"],
        "reads_before_error": {str(n): count for n, count in sorted(merged["reads_before"].items())},
        "one_check_failed": {"count": sum(_near(merged, 1).values()), "per_check": _per_check(merged, 1),
                             "positions": entries("singles")},
        "two_checks_failed": {"count": sum(_near(merged, 2).values()), "histogram": dict(_near(merged, 2)),
                              "per_check": _per_check(merged, 2), "positions": entries("doubles")},
        "flag_combinations": {show(mask): count for mask, count in merged["masks"].most_common()},
    }


COMMAND = FullCheck()
