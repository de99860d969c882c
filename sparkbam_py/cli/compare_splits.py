"""``compare-splits LIST``: our splits vs hadoop-bam's for many BAMs, one Spark task per BAM.

As spark-bam's ``compare-splits`` (reference §3.4, §6.5): inside each task both sides
compute their splits sequentially on one core, ours by record-start search per byte range
(what each executor does for its own range, here done one range after another), hadoop-bam's
by its guesser; so the times compare CPU cost, not parallelism.  Splits are compared by
their start (hadoop-bam's ends are never record positions).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from ..bam.file import open_bam
from ..validators.hadoop_bam_splits import hadoop_bam_splits
from ..config import CheckerConfig
from ..errors import ConfigError, SparkBamError
from ..pos import Pos
from ..bam.splits import compute_byte_ranges, find_split_start, splits_from_starts
from .checker_app import parse_ranges
from .common import Command, Result
from .comparison import (add_split_arguments, checker_config, diff_lines, diff_splits, ms, split_pairs,
                         stats_lines, timed)


def sequential_splits(path: str, split_size, config: CheckerConfig):
    """Our splits, every range's start searched in turn on one channel (header included)."""
    with open_bam(path, config.verify_checksums) as bam:
        ranges = compute_byte_ranges(bam.size, split_size)
        starts = [find_split_start(bam.reader, bam.header, r.start, config, stop=Pos(r.end, 0)) for r in ranges]
        return splits_from_starts(starts, bam.size)


def compare_one(task) -> dict:
    """One BAM, on an executor: both sides' splits, times, and the differing splits."""
    path, split_size, config = task
    result = {"path": path, "name": os.path.basename(path), "error": None}
    try:
        with timed() as theirs_time:
            with open_bam(path, config.verify_checksums) as bam:
                theirs = hadoop_bam_splits(bam, compute_byte_ranges(bam.size, split_size), config)
        with timed() as ours_time:
            ours = sequential_splits(path, split_size, config)
    except SparkBamError as error:
        result["error"] = f"{type(error).__name__}: {error}"
        return result
    diffs = diff_splits(ours, theirs)
    result.update({
        "sparkbam_splits": len(ours), "hadoop_bam_splits": len(theirs),
        "sparkbam_ms": ms(ours_time.seconds), "hadoop_bam_ms": ms(theirs_time.seconds),
        "sparkbam_only": split_pairs([o for o, _ in diffs if o is not None]),
        "hadoop_bam_only": split_pairs([t for _, t in diffs if t is not None]),
        "diff_lines": diff_lines(diffs, "\t\t"),
    })
    return result


def read_path_list(list_path: str, line_ranges: Optional[str]) -> List[str]:
    """Non-blank lines of LIST, optionally only those whose 0-based index is in the ranges;
    relative paths are taken relative to LIST's folder."""
    base = Path(list_path).resolve().parent
    lines = [line.strip() for line in Path(list_path).read_text().splitlines() if line.strip()]
    if line_ranges:
        wanted = parse_ranges(line_ranges)
        lines = [line for index, line in enumerate(lines) if any(a <= index < b for a, b in wanted)]
    if not lines:
        raise ConfigError(f"no BAM paths in {list_path}")
    return [line if "://" in line or os.path.isabs(line) else str(base / line) for line in lines]


class CompareSplits(Command):
    name = "compare-splits"
    help = "compare our splits with hadoop-bam's for every BAM listed in a file (one Spark task per BAM)"

    def configure(self, parser):
        parser.add_argument("list", help="file of BAM paths or URLs, one per line")
        parser.add_argument("-r", "--file-ranges", help="only these 0-based line indices of LIST (e.g. 0-10,15)")
        add_split_arguments(parser)

    def run(self, args) -> Result:
        from ..spark.session import get_spark
        from ..spark.tasks import run_on_executors

        paths = read_path_list(args.list, args.file_ranges)
        tasks = [(path, args.split_size, checker_config(args)) for path in paths]
        spark = get_spark("sparkbam compare-splits", master=os.environ.get("SPARKBAM_MASTER"))
        results = run_on_executors(spark, compare_one, tasks)
        return Result(report_lines(results), report_data(results))


def report_data(results: List[dict]) -> dict:
    done = [r for r in results if r["error"] is None]
    return {
        "bams": len(results), "mismatched": sum(1 for r in done if r["diff_lines"]),
        "errors": sum(1 for r in results if r["error"] is not None),
        "totals": {"sparkbam": sum(r["sparkbam_splits"] for r in done),
                   "hadoop_bam": sum(r["hadoop_bam_splits"] for r in done)},
        "seconds": {"sparkbam": sum(r["sparkbam_ms"] for r in done) / 1000,
                    "hadoop_bam": sum(r["hadoop_bam_ms"] for r in done) / 1000},
        "results": [{k: v for k, v in r.items() if k != "diff_lines"} for r in results],
    }


def report_lines(results: List[dict]) -> List[str]:
    done = [r for r in results if r["error"] is None]
    ours_total = sum(r["sparkbam_splits"] for r in done)
    theirs_total = sum(r["hadoop_bam_splits"] for r in done)
    mismatched = [r for r in done if r["diff_lines"]]
    if not mismatched:
        lines = [f"All {len(done)} BAMs' splits (totals: {ours_total}, {theirs_total}) matched!"]
    else:
        ours_only = sum(len(r["sparkbam_only"]) for r in mismatched)
        theirs_only = sum(len(r["hadoop_bam_only"]) for r in mismatched)
        lines = [f"{len(mismatched)} of {len(done)} BAMs' splits didn't match "
                 f"(totals: {ours_total}, {theirs_total}; {ours_only}, {theirs_only} unmatched)"]
    lines += ["", "Total split-computation time:",
              f"\thadoop-bam:\t{sum(r['hadoop_bam_ms'] for r in done)}",
              f"\tsparkbam:\t{sum(r['sparkbam_ms'] for r in done)}", ""]
    ratios = [r["sparkbam_ms"] / r["hadoop_bam_ms"] for r in done if r["hadoop_bam_ms"]]
    if len(ratios) == 1:
        lines.append(f"Ratio: {ratios[0]:.1f}")
    elif ratios:
        lines += ["Ratios:"] + stats_lines([round(r, 2) for r in ratios])
    for r in mismatched:
        lines.append(f"\t{r['name']}: {len(r['diff_lines'])} splits differ (totals: {r['sparkbam_splits']}, "
                     f"{r['hadoop_bam_splits']}; mismatched: {len(r['sparkbam_only'])}, {len(r['hadoop_bam_only'])}):")
        lines += r["diff_lines"]
    for r in results:
        if r["error"] is not None:
            lines.append(f"\t{r['name']}: {r['error']}")
    return lines


COMMAND = CompareSplits()
