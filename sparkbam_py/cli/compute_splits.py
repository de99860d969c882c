"""``compute-splits BAM``: our splits (found by Spark tasks) and hadoop-bam's (on the driver).

spark-bam's ``compute-splits`` (reference §6.4): both timed, then "All splits matched!" with
the split-size distribution and the splits, or the splits whose start only one side has
(ours one tab in, hadoop-bam's two).  ``-s`` / ``-u`` run only ours / only hadoop-bam's.
``--json``: ``{"splits": [["b:o","b:o"], ...], "hadoop_bam_splits": [...],
"seconds": {"sparkbam": s, "hadoop_bam": s}, "matched": bool}``.
"""
from __future__ import annotations

from typing import List, Optional

from ..formats import FORMAT_NAMES
from ..split import Split
from ..validators.hadoop_bam_splits import compute_hadoop_bam_splits
from .common import Command, Result
from .comparison import (BASELINE_FORMATS, add_split_arguments, changed_checker_options, checker_config,
                         diff_lines, diff_splits, ms, no_baseline_line, session, split_length, split_pairs,
                         stats_lines, timed, warm_up)
from .count_reads import add_method_argument


class ComputeSplits(Command):
    name = "compute-splits"
    help = "compute our splits (on Spark executors) and hadoop-bam's (on the driver), and compare them"
    formats = FORMAT_NAMES

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        add_split_arguments(parser)
        add_method_argument(parser)
        parser.add_argument("-s", "--sparkbam", action="store_true", help="only our splits")
        parser.add_argument("-u", "--hadoop-bam", "--upstream", action="store_true", help="only hadoop-bam's splits")

    def run(self, args) -> Result:
        source_format = self.input_format(args.bam)
        if source_format.name not in BASELINE_FORMATS:
            return splits_ours_only(args, self.name, source_format)
        both = args.sparkbam == args.hadoop_bam
        config = checker_config(args)
        ours: Optional[List[Split]] = None
        theirs: Optional[List[Split]] = None
        seconds = {}
        warm_up_seconds = None
        if both or args.sparkbam:
            from ..spark.api import compute_splits

            spark = session("sparkbam compute-splits")
            warm_up_seconds = warm_up(spark, args.bam, args.method)
            options = dict(reads_to_check=config.reads_to_check, max_read_size=config.max_read_size,
                           bgzf_blocks_to_check=config.bgzf_blocks_to_check, method=args.method,
                           verify_checksums=config.verify_checksums)
            with timed() as watch:
                ours = compute_splits(spark, args.bam, args.split_size, **options)
            seconds["sparkbam"] = watch.seconds
        if both or args.hadoop_bam:
            baseline = compute_hadoop_bam_splits(args.bam, args.split_size, config)
            theirs, seconds["hadoop_bam"] = baseline.splits, baseline.seconds
        data = report_data(ours, theirs, seconds)
        if warm_up_seconds is not None:
            data["warm_up_seconds"] = round(warm_up_seconds, 3)
        return Result(report_lines(ours, theirs, seconds), data)


def report_data(ours, theirs, seconds) -> dict:
    data = {"seconds": {name: round(value, 3) for name, value in seconds.items()}}
    if ours is not None:
        data["splits"] = split_pairs(ours)
    if theirs is not None:
        data["hadoop_bam_splits"] = split_pairs(theirs)
    if ours is not None and theirs is not None:
        data["matched"] = not diff_splits(ours, theirs)
    return data


def report_lines(ours, theirs, seconds) -> List[str]:
    lines = []
    if ours is not None:
        lines.append(f"Get sparkbam splits: {ms(seconds['sparkbam'])}ms")
    if theirs is not None:
        lines.append(f"Get hadoop-bam splits: {ms(seconds['hadoop_bam'])}ms")
    lines.append("")
    if ours is not None and theirs is not None:
        diffs = diff_splits(ours, theirs)
        if diffs:
            return lines + [f"{len(diffs)} splits differ (totals: {len(ours)}, {len(theirs)}):"] + diff_lines(diffs)
        lines += ["All splits matched!", ""]
    return lines + split_listing(ours if ours is not None else theirs)


def split_listing(splits: List[Split]) -> List[str]:
    lines = ["Split-size distribution:"] + stats_lines([split_length(s) for s in splits]) + [""]
    return lines + [f"{len(splits)} splits:"] + [f"\t{split}" for split in splits]


def splits_ours_only(args, label: str, source_format) -> Result:
    """``compute-splits`` of a file the baseline does not read: found on the executors where
    the format lists its splits (CRAM), else here with the executors' search (text lines)."""
    if not source_format.split_rows:
        return line_splits_result(args.bam, args.split_size)
    from ..spark.api import compute_splits

    spark = session(f"sparkbam {label}")
    warm = warm_up(spark, args.bam, args.method)
    with timed() as watch:
        splits = compute_splits(spark, args.bam, args.split_size, **changed_checker_options(args))
    lines = [f"Get sparkbam splits: {ms(watch.seconds)}ms", "", no_baseline_line(source_format), "",
             f"{len(splits)} splits:"] + [f"\t{split}" for split in splits]
    data = {"splits": split_pairs(splits), "seconds": {"sparkbam": round(watch.seconds, 3)},
            "format": source_format.name, "warm_up_seconds": round(warm, 3)}
    return Result(lines, data)


def line_splits_result(path: str, split_size) -> Result:
    """The line splits of a text file, each range's first line found as the executors find it."""
    from ..text.checks import compute_line_splits

    with timed() as watch:
        splits = compute_line_splits(path, split_size)
    lines = [f"Get sparkbam line splits: {ms(watch.seconds)}ms", ""] + split_listing(splits)
    return Result(lines, {"splits": split_pairs(splits), "seconds": {"sparkbam": round(watch.seconds, 3)}})


COMMAND = ComputeSplits()
