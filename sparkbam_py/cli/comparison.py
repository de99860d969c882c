"""What the comparison commands share: options, split lengths, spark-bam-style statistics,
split diffs, timing, and their Spark session.

``compute-splits``, ``compare-splits``, ``count-reads`` and ``time-load`` print their reports
in spark-bam's wording (spark-bam reference §6.4-6.7), so outputs can be read side by side.
"""
from __future__ import annotations

import math
import os
import statistics
import time
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple

from ..config import (DEFAULT_BGZF_BLOCKS_TO_CHECK, DEFAULT_MAX_READ_SIZE, DEFAULT_READS_TO_CHECK,
                      DEFAULT_SPLIT_SIZE, CheckerConfig)
from ..split import Split
from .common import add_verify_checksums_argument

# spark-bam's Split.length: compressed bytes, counting inflated offsets at an assumed
# compression ratio of 3 (spark-bam reference §3.3).
ESTIMATED_COMPRESSION_RATIO = 3
# Past this many values, statistics show the first and last few and percentiles.
FULL_LIST_LIMIT = 20
EDGE_VALUES = 10
PERCENTILES = (0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9)


def add_split_arguments(parser) -> None:
    """The options every comparison command takes: split size and the search's bounds."""
    parser.add_argument("-m", "--split-size", default=DEFAULT_SPLIT_SIZE,
                        help="byte range per split (default 32m; 64m, 128MB or bytes)")
    parser.add_argument("-z", "--bgzf-blocks-to-check", type=int, default=DEFAULT_BGZF_BLOCKS_TO_CHECK,
                        help="chained BGZF headers that confirm a block start "
                             f"(default {DEFAULT_BGZF_BLOCKS_TO_CHECK})")
    parser.add_argument("--reads-to-check", type=int, default=DEFAULT_READS_TO_CHECK,
                        help=f"records that must chain after a candidate start (default {DEFAULT_READS_TO_CHECK})")
    parser.add_argument("--max-read-size", type=int, default=DEFAULT_MAX_READ_SIZE,
                        help=f"positions a start search may try before failing (default {DEFAULT_MAX_READ_SIZE})")
    add_verify_checksums_argument(parser)


def checker_config(args) -> CheckerConfig:
    return CheckerConfig(reads_to_check=args.reads_to_check, max_read_size=args.max_read_size,
                         bgzf_blocks_to_check=args.bgzf_blocks_to_check, verify_checksums=args.verify_checksums)


def changed_checker_options(args) -> dict:
    """The search options as loader keywords, the counts only where given other than the
    defaults: a format without such options (CRAM) is then read with none unless they were
    given (``verify_checksums`` left on is no option at all, see ``formats.options``)."""
    given, defaults = checker_config(args), CheckerConfig()
    counts = ("reads_to_check", "max_read_size", "bgzf_blocks_to_check")
    changed = {name: getattr(given, name) for name in counts if getattr(given, name) != getattr(defaults, name)}
    return dict(changed, verify_checksums=given.verify_checksums)


def split_length(split: Split) -> int:
    """``end - start`` in compressed bytes; the offsets' difference divided by the ratio,
    truncated toward zero (224301 for spark-bam's ``0:45846-239479:312``)."""
    offsets = split.end.offset - split.start.offset
    return split.end.block_pos - split.start.block_pos + int(offsets / ESTIMATED_COMPRESSION_RATIO)


def number(value: float) -> str:
    """Integers plainly, others with one decimal: ``194067``, ``57877.4``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def stats_lines(values: Sequence[float]) -> List[str]:
    """``N: 3, μ/σ: 194067/57877.4, med/mad: 224301/20521`` then the values, as spark-bam's
    Stats prints them (population σ; mad = median absolute deviation)."""
    if not values:
        return ["N: 0"]
    mean = statistics.fmean(values)
    sigma = statistics.pstdev(values)
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    lines = [f"N: {len(values)}, μ/σ: {number(mean)}/{number(sigma)}, med/mad: {number(median)}/{number(mad)}"]
    ordered = sorted(values)
    if len(values) <= FULL_LIST_LIMIT:
        lines.append(" elems: " + " ".join(number(v) for v in values))
        lines.append("sorted: " + " ".join(number(v) for v in ordered))
    else:
        lines.append(" elems: " + _edges(values))
        lines.append("sorted: " + _edges(ordered))
        lines.append(" ".join(f"{p}: {number(_percentile(ordered, p))}" for p in PERCENTILES))
    return lines


def _edges(values: Sequence[float]) -> str:
    head = " ".join(number(v) for v in values[:EDGE_VALUES])
    tail = " ".join(number(v) for v in values[-EDGE_VALUES:])
    return f"{head} … {tail}"


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between closest ranks."""
    rank = (len(ordered) - 1) * percent / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def diff_splits(ours: Sequence[Split], theirs: Sequence[Split]) -> List[Tuple[Optional[Split], Optional[Split]]]:
    """Splits whose start only one side has, merged in start order (spark-bam compares
    splits by their start; hadoop-bam's ends are never record positions)."""
    their_starts = {split.start for split in theirs}
    our_starts = {split.start for split in ours}
    only = [(s, None) for s in ours if s.start not in their_starts]
    only += [(None, s) for s in theirs if s.start not in our_starts]
    return sorted(only, key=lambda pair: (pair[0] or pair[1]).start)


def diff_lines(diffs: Sequence[Tuple[Optional[Split], Optional[Split]]], indent: str = "\t") -> List[str]:
    """Ours as ``<indent><split>``, theirs one tab further in."""
    return [f"{indent}{ours}" if ours is not None else f"{indent}\t{theirs}" for ours, theirs in diffs]


def split_pairs(splits: Sequence[Split]) -> List[List[str]]:
    """Splits for ``--json``: ``[["b:o", "b:o"], ...]``."""
    return [[str(split.start), str(split.end)] for split in splits]


class Stopwatch:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    watch = Stopwatch()
    started = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - started


def ms(seconds: float) -> int:
    return int(round(1000 * seconds))


# -- Spark ----------------------------------------------------------------------------------


def session(app_name: str):
    """The command's SparkSession (master from spark-submit, ``SPARKBAM_MASTER``, or local),
    its Python workers started, so the first timed job does not pay for their start-up."""
    from ..spark.session import get_spark, is_connect

    spark = get_spark(app_name, master=os.environ.get("SPARKBAM_MASTER"))
    if not is_connect(spark):
        cores = spark.sparkContext.defaultParallelism
        spark.sparkContext.parallelize(range(cores), cores).map(abs).count()
    return spark


# The formats the hadoop-bam baseline reads (validators/hadoop_bam_splits.py); on the others
# the comparison commands show our side only.
BASELINE_FORMATS = ("bam",)


def no_baseline_line(source_format) -> str:
    return f"hadoop-bam does not read {source_format.title}: only sparkbam's side is shown"


# A split size larger than any file: one range, so warming up costs one start search.
WHOLE_FILE_SPLIT = "1t"


def warm_up(spark, path: str, method: str = "auto") -> float:
    """Seconds spent on one untimed one-split ``compute_splits`` of ``path``.

    The first Python data source read of a session starts and imports the library in
    several Python processes (planner, reader), seconds on a busy machine; without this the
    first timed run would measure that, not the splits.
    """
    from ..spark.api import compute_splits

    with timed() as watch:
        compute_splits(spark, path, WHOLE_FILE_SPLIT, method=method)
    return watch.seconds


def failure_message(error: BaseException) -> str:
    """The Python error inside a failed Spark job, without the JVM stack around it."""
    text = str(error)
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and ("Error:" in line or "Exception:" in line) and not line.startswith("at "):
            return line
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"
