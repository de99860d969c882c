"""``count-reads BAM``: read counts and times through our splits and through hadoop-bam's.

spark-bam's ``count-reads`` (reference §6.6).  Ours: ``count_reads``, every split found and
walked on the executors.  hadoop-bam's: its splits computed on the driver, then each walked
by a Spark task with the same record walker, so the two differ only in where the splits
come from.  A false split start makes the baseline throw (as hadoop-bam does on spark-bam's
1.bam at 230 KB) or miscount; a block starting exactly on a range boundary makes it count
that block's records twice.
"""
from __future__ import annotations

import statistics
from functools import partial
from typing import Dict, List

from ..formats import READ_FORMATS
from ..validators.hadoop_bam_splits import compute_hadoop_bam_splits, iter_baseline_split_counts
from .common import Command, Result
from .comparison import (BASELINE_FORMATS, add_split_arguments, changed_checker_options, checker_config,
                         failure_message, ms, no_baseline_line, session, stats_lines, timed, warm_up)

OURS, THEIRS = "sparkbam", "hadoop_bam"
LABELS = {OURS: "sparkbam", THEIRS: "hadoop-bam"}


def count_split(split, path: str) -> int:
    """One baseline split's records, inside a Spark task."""
    return next(iter_baseline_split_counts(path, [split]))


def count_ours(spark, args) -> int:
    from ..spark.api import count_reads

    config = checker_config(args)
    return count_reads(spark, args.bam, args.split_size, reads_to_check=config.reads_to_check,
                       max_read_size=config.max_read_size, bgzf_blocks_to_check=config.bgzf_blocks_to_check,
                       method=args.method, verify_checksums=config.verify_checksums)


def count_theirs(spark, args) -> int:
    splits = compute_hadoop_bam_splits(args.bam, args.split_size, checker_config(args)).splits
    from ..spark.tasks import run_on_executors

    return sum(run_on_executors(spark, partial(count_split, path=args.bam), splits))


def add_method_argument(parser) -> None:
    parser.add_argument("--method", default="auto", choices=("auto", "datasource", "mapInArrow"),
                        help="how our side runs on Spark: the Python data source (Spark >= 4) or mapInArrow")


class CountReads(Command):
    name = "count-reads"
    help = "count reads through our splits and through hadoop-bam's, timing both"
    formats = READ_FORMATS

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        add_split_arguments(parser)
        add_method_argument(parser)
        parser.add_argument("-s", "--sparkbam-first", action="store_true",
                            help="run ours first (default: hadoop-bam's first, as spark-bam does)")
        parser.add_argument("-n", "--num-iterations", type=int, default=1, help="runs of each (default 1)")

    def run(self, args) -> Result:
        source_format = self.input_format(args.bam)
        if source_format.name not in BASELINE_FORMATS:
            return count_ours_only(args, self.name, source_format)
        spark = session("sparkbam count-reads")
        warm_up_seconds = warm_up(spark, args.bam, args.method)
        order = [OURS, THEIRS] if args.sparkbam_first else [THEIRS, OURS]
        runs = {OURS: partial(count_ours, spark, args), THEIRS: partial(count_theirs, spark, args)}
        times: Dict[str, List[float]] = {OURS: [], THEIRS: []}
        counts: Dict[str, List[int]] = {OURS: [], THEIRS: []}
        failure = None
        for _ in range(max(1, args.num_iterations)):
            for side in order:
                if side == THEIRS and failure is not None:
                    continue
                try:
                    with timed() as watch:
                        counts[side].append(runs[side]())
                except Exception as error:  # the baseline's failure is a result, not a crash
                    if side == OURS:
                        raise
                    failure = failure_message(error)
                times[side].append(watch.seconds)
        data = report_data(times, counts, failure)
        data["warm_up_seconds"] = round(warm_up_seconds, 3)
        return Result(report_lines(times, counts, failure), data)


def count_ours_only(args, label: str, source_format) -> Result:
    """``count-reads`` of a file the baseline does not read (CRAM: container headers' counts)."""
    from ..spark.api import count_reads

    spark = session(f"sparkbam {label}")
    warm = warm_up(spark, args.bam, args.method)
    with timed() as watch:
        count = count_reads(spark, args.bam, args.split_size, **changed_checker_options(args))
    lines = [f"sparkbam read-count time: {ms(watch.seconds)}", "", no_baseline_line(source_format), f"Reads: {count}"]
    data = {"counts": {"sparkbam": count}, "seconds": {"sparkbam": round(watch.seconds, 3)},
            "format": source_format.name, "warm_up_seconds": round(warm, 3)}
    return Result(lines, data)


def report_data(times, counts, failure) -> dict:
    data = {"counts": {side: values[-1] if values else None for side, values in counts.items()},
            "seconds": {side: round(statistics.median(values), 3) for side, values in times.items() if values},
            "matched": failure is None and counts[OURS][-1:] == counts[THEIRS][-1:]}
    if failure is not None:
        data["hadoop_bam_error"] = failure
    if len(times[OURS]) > 1:
        data["all_seconds"] = {side: [round(v, 3) for v in values] for side, values in times.items()}
    return data


def report_lines(times, counts, failure) -> List[str]:
    lines = []
    for side in (OURS, THEIRS):
        if len(times[side]) > 1:
            lines += [f"{LABELS[side]} read-count times:"] + stats_lines([ms(t) for t in times[side]])
        elif times[side]:
            lines.append(f"{LABELS[side]} read-count time: {ms(times[side][0])}")
    lines.append("")
    ours = counts[OURS][-1]
    if failure is not None:
        return lines + [f"sparkbam found {ours} reads, hadoop-bam threw exception:", failure]
    theirs = counts[THEIRS][-1]
    if len(set(counts[OURS])) > 1 or len(set(counts[THEIRS])) > 1:
        lines.append(f"Counts varied between runs: sparkbam {counts[OURS]}, hadoop-bam {counts[THEIRS]}")
    if ours == theirs:
        return lines + [f"Read counts matched: {ours}"]
    return lines + [f"Read counts mismatched: {ours} via sparkbam, {theirs} via hadoop-bam"]


COMMAND = CountReads()
