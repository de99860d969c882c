"""``check-bam BAM``: every uncompressed position, each checker's call against the truth.

Text output in spark-bam's words (positions, compressed size, ratio, reads, then per
checker its true/false positives and negatives, each false call with the read after it and
the checks the full checker says failed). ``--json``: ``{"positions", "reads",
"checkers": {NAME: {"tp", "fp", "tn", "fn", "false_positives", "false_negatives"}}}``, the
false calls as ``block:offset`` strings (details under ``false_positive_details`` and
``false_negative_details``).
"""
from __future__ import annotations

from collections import Counter
from typing import List

from ..bam.file import open_bam
from ..validators.flags import show
from ..validators.partitions import check_bam_partition
from .checker_app import add_arguments, checker_names, plan, position_line, run_tasks, summary_lines
from .common import Command, Result


class CheckBam(Command):
    name = "check-bam"
    help = "check every position of a BAM with each checker against the true record starts"
    formats = ("bam",)

    def configure(self, parser):
        add_arguments(parser)

    def run(self, args) -> Result:
        self.input_format(args.bam)
        names = checker_names(args)
        with open_bam(args.bam, args.verify_checksums) as bam:
            _, _, tasks = plan(args, bam, names)
        parts = run_tasks("sparkbam check-bam", check_bam_partition, tasks)
        merged = merge_check_bam(parts, names, args.print_limit)
        return Result(check_bam_lines(merged, names), json_shape(merged, names), exit_code=0)


def merge_check_bam(parts: List[dict], names, limit: int) -> dict:
    merged = {"positions": 0, "compressed": 0, "reads": 0,
              "checkers": {name: {"tp": 0, "fp": 0, "tn": 0, "fn": 0, "false_positives": [], "false_negatives": []}
                           for name in names}}
    for part in parts:
        for key in ("positions", "compressed", "reads"):
            merged[key] += part[key]
        for name in names:
            mine, theirs = merged["checkers"][name], part["checkers"][name]
            for key in ("tp", "fp", "tn", "fn"):
                mine[key] += theirs[key]
            for key in ("false_positives", "false_negatives"):
                mine[key].extend(theirs[key][: max(limit - len(mine[key]), 0)])
    return merged


def check_bam_lines(merged: dict, names) -> List[str]:
    lines = summary_lines(merged["positions"], merged["compressed"], merged["reads"])
    for name in names:
        tally = merged["checkers"][name]
        lines += ["", f"{name}: true positives {tally['tp']}, false positives {tally['fp']}, "
                      f"true negatives {tally['tn']}, false negatives {tally['fn']}"]
        if tally["fp"] == 0 and tally["fn"] == 0:
            lines.append("All calls matched!")
            continue
        lines.append(f"{tally['fp']} false positives, {tally['fn']} false negatives")
        lines += _false_calls(tally["false_positives"], tally["fp"], "False positives", histogram=True)
        lines += _false_calls(tally["false_negatives"], tally["fn"], "False negatives", histogram=False)
    return lines


def _false_calls(entries: List[dict], total: int, title: str, histogram: bool) -> List[str]:
    if not total:
        return []
    lines = []
    if histogram:
        counts = Counter(show(e["flags"], e["reads_before_error"]) for e in entries)
        lines += ["", "False-positive-site flags histogram:"]
        lines += [f"\t{count}:\t{flags}" for flags, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown = f"{len(entries)} of {total} {title.lower()}" if len(entries) < total else title
    lines += ["", f"{shown} with succeeding read info:"]
    lines += [position_line(entry) for entry in entries]
    return lines


def json_shape(merged: dict, names) -> dict:
    checkers = {}
    for name in names:
        tally = merged["checkers"][name]
        checkers[name] = {
            "tp": tally["tp"], "fp": tally["fp"], "tn": tally["tn"], "fn": tally["fn"],
            "false_positives": [entry["pos"] for entry in tally["false_positives"]],
            "false_negatives": [entry["pos"] for entry in tally["false_negatives"]],
            "false_positive_details": [_detail(entry) for entry in tally["false_positives"]],
            "false_negative_details": [_detail(entry) for entry in tally["false_negatives"]],
        }
    ratio = merged["positions"] / merged["compressed"] if merged["compressed"] else 0.0
    return {"positions": merged["positions"], "reads": merged["reads"], "compressed": merged["compressed"],
            "compression_ratio": round(ratio, 4), "checkers": checkers}


def _detail(entry: dict) -> dict:
    return {"pos": entry["pos"], "failing_checks": show(entry["flags"]).split(",") if entry["flags"] else [],
            "reads_before_error": entry["reads_before_error"], "next_read": entry["next_read"]}


COMMAND = CheckBam()
