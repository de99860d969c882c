"""CRAM through the commands that take a BAM (``count-reads``, ``compute-splits``).

hadoop-bam has no CRAM reader, so these report our side only: the count (container headers'
record counts, every split found on the executors, each boundary checked) or the splits,
each split a ``Split(Pos(first container, 0), Pos(next split's first container, 0))``.
"""
from __future__ import annotations

from ..cram.plan import is_cram
from ..spark.paths import is_local_path
from .common import Result
from .comparison import ms, session, split_pairs, timed, warm_up

NO_BASELINE = "hadoop-bam does not read CRAM: only sparkbam's side is shown"


def names_cram_file(path: str) -> bool:
    """Whether the command's input is a CRAM file (judged by its magic)."""
    import os

    if is_local_path(path) and not os.path.isfile(path):
        return False
    try:
        return is_cram(path)
    except OSError:
        return False


def count_cram(args, label: str) -> Result:
    """``count-reads`` of a CRAM."""
    from ..spark.api import count_reads

    spark = session(f"sparkbam {label}")
    warm = warm_up(spark, args.bam, args.method)
    with timed() as watch:
        count = count_reads(spark, args.bam, args.split_size)
    lines = [f"sparkbam read-count time: {ms(watch.seconds)}", "", NO_BASELINE, f"Reads: {count}"]
    data = {"counts": {"sparkbam": count}, "seconds": {"sparkbam": round(watch.seconds, 3)},
            "format": "cram", "warm_up_seconds": round(warm, 3)}
    return Result(lines, data)


def cram_splits(args, label: str) -> Result:
    """``compute-splits`` of a CRAM."""
    from ..spark.api import compute_splits

    spark = session(f"sparkbam {label}")
    warm = warm_up(spark, args.bam, args.method)
    with timed() as watch:
        splits = compute_splits(spark, args.bam, args.split_size)
    lines = [f"Get sparkbam splits: {ms(watch.seconds)}ms", "", NO_BASELINE, "",
             f"{len(splits)} splits:"] + [f"\t{split}" for split in splits]
    data = {"splits": split_pairs(splits), "seconds": {"sparkbam": round(watch.seconds, 3)}, "format": "cram",
            "warm_up_seconds": round(warm, 3)}
    return Result(lines, data)
