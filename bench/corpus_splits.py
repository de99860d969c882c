"""Splits over a whole corpus: ours (Spark executors) and hadoop-bam's, against the record truth.

For every readable BAM under the corpus and several split sizes:

- truth: the first record owned by each byte range, from an independent list of record
  starts (htslib's ``tell()`` through pysam; the library's own walk where htslib refuses
  the file, labelled ``walk``), a record owned by the block holding its first byte;
- ours: the ``bam_splits`` data source over all BAMs at once (one Spark job per split size),
  i.e. the executors' own searches, exactly what every load does;
- the baseline: hadoop-bam's splits (``validators/hadoop_bam_splits``), sequential on the driver.

Every baseline split start that differs from the truth is classified: ``fp`` (not a record
start: hadoop-bam's checker accepted garbage), ``fn`` (a later record, or none, when the
range has one: it missed the true first record).  ``doubled`` counts the records that its
``(end << 16) | 0xffff`` ends read twice (those starting in a block that starts exactly on a
range boundary).

Usage: python bench/corpus_splits.py [CORPUS] [--tsv bench/out/corpus_splits.tsv]
"""
from __future__ import annotations

import argparse
import bisect
import csv
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pysam

from sparkbam_py.bam.file import open_bam
from sparkbam_py.validators.hadoop_bam_splits import hadoop_bam_split_start
from sparkbam_py.config import CheckerConfig
from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.errors import SparkBamError
from sparkbam_py.pos import Pos
from sparkbam_py.spark.api import register
from sparkbam_py.spark.source_names import SPLITS_SUFFIX
from sparkbam_py.spark.session import get_spark
from sparkbam_py.bam.splits import ByteRange, compute_byte_ranges
from sparkbam_py.validators.hadoop_bam import HadoopBamChecker

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Fractions of the file: a couple of splits, several, many (the corpus files are small).
SPLIT_DIVISORS = (2, 7, 30)
MIN_SPLIT_SIZE = 1000
UNREADABLE_NOTES = ("INVALID", "container=raw")


def readable_bams(corpus: Path) -> List[Path]:
    with open(corpus / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [corpus / row["file"] for row in rows if not any(n in row["notes"] for n in UNREADABLE_NOTES)]


def record_starts(path: Path):
    """(htslib-named record starts, source): pysam's tell(), or the library's walk."""
    try:
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            starts = []
            while True:
                tell = bam.tell()
                if next(bam, None) is None:
                    return starts, "htslib"
                starts.append(Pos.from_virtual(tell))
    except (OSError, ValueError):
        with open_bam(str(path)) as bam:
            positions = [Pos.from_virtual(int(v)) for c in bam.iter_record_chunks() for v in c.virtual_offsets()]
            return positions, "walk"


def physical_blocks(path: Path, starts: Sequence[Pos]) -> List[int]:
    """The block holding each record's first byte: a record named by an empty block at
    offset 0 starts in the next block that has data."""
    with open_bam(str(path)) as bam:
        blocks = [b for b in iter_block_info(bam.channel, include_eof_marker=True)]
    holder, next_with_data = {}, None
    for block in reversed(blocks):  # each empty block -> the first later block with data
        if block.uncompressed_size:
            next_with_data = block.start
        else:
            holder[block.start] = next_with_data
    return [holder[p.block_pos] if p.offset == 0 and p.block_pos in holder else p.block_pos for p in starts]


def truth_firsts(starts: Sequence[Pos], physical: Sequence[int], ranges: Sequence[ByteRange]) -> List[Optional[Pos]]:
    firsts = []
    for r in ranges:
        k = bisect.bisect_left(physical, r.start)
        firsts.append(starts[k] if k < len(starts) and physical[k] < r.end else None)
    return firsts


def our_splits_by_file(spark, paths: List[str], split_size: int) -> Dict[str, list]:
    rows = (spark.read.format("bam" + SPLITS_SUFFIX).option("splitSize", str(split_size)).load(paths).collect())
    by_file: Dict[str, list] = {}
    for path, start, _end, first, _count in rows:
        by_file.setdefault(path, []).append((start, None if first is None else Pos.from_virtual(first)))
    return {path: [first for _, first in sorted(entries)] for path, entries in by_file.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--tsv", type=Path, default=Path("bench/out/corpus_splits.tsv"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    bams = readable_bams(args.corpus)
    truths = {}
    for bam in bams:
        starts, source = record_starts(bam)
        truths[str(bam)] = (starts, physical_blocks(bam, starts), source, bam.stat().st_size)
    spark = get_spark("bench-corpus-splits", master="local[2]")
    register(spark)
    rows, totals = [], Counter()
    for divisor in SPLIT_DIVISORS:
        # One job per divisor: every BAM split into about `divisor` ranges.
        groups: Dict[int, List[str]] = {}
        for path, (*_, size) in truths.items():
            groups.setdefault(max(MIN_SPLIT_SIZE, size // divisor), []).append(path)
        for split_size, paths in sorted(groups.items()):
            ours_by_file = our_splits_by_file(spark, paths, split_size)
            for path in paths:
                rows.append(compare_file(path, truths[path], split_size, ours_by_file.get(path, []), totals))
    write_tsv(rows, args.tsv)
    print(summary(rows, totals, len(bams)))
    return 0 if totals["ours_wrong"] == 0 else 1


def compare_file(path: str, truth_info, split_size: int, our_firsts, totals: Counter) -> dict:
    starts, physical, source, size = truth_info
    ranges = compute_byte_ranges(size, split_size)
    truth = truth_firsts(starts, physical, ranges)
    ours_ok = our_firsts == truth
    row = {"file": Path(path).relative_to(CORPUS).as_posix() if CORPUS in Path(path).parents else path,
           "split_size": split_size, "ranges": len(ranges), "truth": source, "ours_equal_truth": ours_ok,
           "baseline_fp": 0, "baseline_fn": 0, "baseline_header": 0, "baseline_other": 0, "baseline_doubled": 0,
           "error": ""}
    totals["runs"] += 1
    totals["ours_wrong"] += not ours_ok
    try:
        guesses, header_end = baseline_guesses(path, ranges)
    except SparkBamError as error:
        row["error"] = f"{type(error).__name__}: {error.detail}"
        totals["baseline_errors"] += 1
        return row
    counts = classify(guesses, truth, set(starts), header_end)
    boundaries = {r.end for r in ranges[:-1]}
    # hadoop-bam's ends (e << 16) | 0xffff take in every record named by the block at e,
    # which the next range's split (starting at that block) reads again.
    row["baseline_doubled"] = sum(1 for p in starts if p.block_pos in boundaries)
    for key in ("fp", "fn", "header", "other"):
        row[f"baseline_{key}"] = counts[key]
        totals[f"baseline_{key}"] += counts[key]
    totals["baseline_doubled"] += row["baseline_doubled"]
    totals["files_with_baseline_errors"] += bool(counts["fp"] or counts["fn"] or row["baseline_doubled"])
    return row


def classify(guesses: List[Optional[Pos]], truth: List[Optional[Pos]], true_starts: set, header_end: Pos) -> Counter:
    """Per range: ``header`` for its first split's start at the header's end in a range that
    owns no record (hadoop-bam never guesses there, even when the header reaches past the
    range or no record follows); ``fp`` when its start is no record start; ``fn`` when it
    missed the range's true first record (found a later one, or none); else ``other``."""
    counts = Counter()
    for k, (got, expected) in enumerate(zip(guesses, truth)):
        if got == expected:
            continue
        if k == 0 and got == header_end:
            counts["header"] += 1
        elif got is not None and got not in true_starts:
            counts["fp"] += 1
        elif expected is not None and (got is None or got > expected):
            counts["fn"] += 1
        else:
            counts["other"] += 1
    return counts


def baseline_guesses(path: str, ranges):
    """hadoop-bam's start for every range, before empty ranges are merged away; the header's end."""
    with open_bam(path) as bam:
        checker = HadoopBamChecker(bam.header.n_ref, bam.size)
        guesses = [hadoop_bam_split_start(bam.reader, bam.header, checker, r, CheckerConfig()) for r in ranges]
        return guesses, bam.header.end


def write_tsv(rows: List[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


def summary(rows: List[dict], totals: Counter, n_bams: int) -> str:
    files = {row["file"] for row in rows}
    bad_ours = sorted({row["file"] for row in rows if not row["ours_equal_truth"]})
    lines = [
        f"{n_bams} BAMs, {totals['runs']} (BAM, split size) runs, {sum(r['ranges'] for r in rows)} byte ranges",
        f"ours: splits equal the truth in {totals['runs'] - totals['ours_wrong']} of {totals['runs']} runs"
        + (f"; differ in: {', '.join(bad_ours)}" if bad_ours else ""),
        f"hadoop-bam: {totals['baseline_fp']} split starts at false positives, {totals['baseline_fn']} missed "
        f"true first records, {totals['baseline_header']} first splits at the header's end in ranges owning no record, "
        f"{totals['baseline_other']} other; {totals['baseline_doubled']} records read twice "
        f"at block-aligned range boundaries; wrong in {totals['files_with_baseline_errors']} of {len(files)} BAMs; "
        f"{totals['baseline_errors']} runs where it threw",
    ]
    worst = sorted(rows, key=lambda r: -(r["baseline_fp"] + r["baseline_fn"]))[:10]
    lines += [f"  {r['file']} @ {r['split_size']}: fp {r['baseline_fp']}, fn {r['baseline_fn']}"
              for r in worst if r["baseline_fp"] + r["baseline_fn"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
