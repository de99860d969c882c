"""Split computation time: ours on Spark executors vs hadoop-bam's on the driver, by file size.

For each BAM and split size, in one run and one Spark session (``local[2]``):

- ``sparkbam``: ``compute_splits`` (each Spark task searches its own range's first record),
  wall time on the driver, session warm, through the Python data source (the default on
  Spark 4) and through the RDD path (``method="mapInArrow"``: no data source planning);
- ``sparkbam 1 core``: the same searches one after another in this process, i.e. the CPU
  they cost (what spark-bam's ``compare-splits`` timed);
- ``hadoop-bam``: the baseline, sequential on the driver (``validators/hadoop_bam_splits``).

Each figure is the median of ``--repeat`` runs.  The two sides' splits are compared (by
start) and the differences counted.  Writes JSON and a PNG (matplotlib, the bench extra).

Usage: python bench/bench_splits.py [--bams A.bam B.bam ...] [--split-sizes 2m 8m 32m]
       [--repeat 3] [--out bench/out/splits.json] [--plot bench/figures/split_times.png]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from sparkbam_py.validators.hadoop_bam_splits import compute_hadoop_bam_splits
from sparkbam_py.cli.compare_splits import sequential_splits
from sparkbam_py.cli.comparison import diff_splits, warm_up
from sparkbam_py.config import CheckerConfig, parse_size
from sparkbam_py.spark.api import compute_splits
from sparkbam_py.spark.session import get_spark
from bench_data import BENCH_DATA

DATA = BENCH_DATA
# ~100 MB, ~290 MB, ~580 MB, ~1.15 GB: a subsample of the sorted short-read BAM, the BAM,
# and the BAM concatenated with itself twice and four times (samtools view -s / samtools cat).
DEFAULT_BAMS = [DATA / name for name in ("sr.100m.bam", "sr.sorted.bam", "sr.x2.bam", "sr.x4.bam")]
DEFAULT_SPLIT_SIZES = ["2m", "8m", "32m"]


def median_seconds(run, repeat: int):
    """(median seconds, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(spark, bam: Path, split_size: str, repeat: int) -> dict:
    path = str(bam)
    ours_s, ours = median_seconds(lambda: compute_splits(spark, path, split_size), repeat)
    rdd_s, rdd = median_seconds(lambda: compute_splits(spark, path, split_size, method="mapInArrow"), repeat)
    one_core_s, one_core = median_seconds(lambda: sequential_splits(path, split_size, CheckerConfig()), repeat)
    theirs_s, baseline = median_seconds(lambda: compute_hadoop_bam_splits(path, split_size), repeat)
    if not ours == rdd == one_core:
        raise AssertionError(f"{bam.name} {split_size}: Spark's splits differ from the sequential search's")
    return {
        "bam": bam.name, "bytes": bam.stat().st_size, "split_size": split_size, "splits": len(ours),
        "hadoop_bam_splits": len(baseline.splits), "differing": len(diff_splits(ours, baseline.splits)),
        "seconds": {"sparkbam": round(ours_s, 3), "sparkbam_rdd": round(rdd_s, 3),
                    "sparkbam_1_core": round(one_core_s, 3),
                    "hadoop_bam": round(theirs_s, 3)},
    }


def plot(rows, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({row["split_size"] for row in rows}, key=parse_size)
    figure, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.8), sharey=True, squeeze=False)
    styles = {"sparkbam": ("tab:blue", "o", "sparkbam (data source, local[2])"),
              "sparkbam_rdd": ("tab:purple", "D", "sparkbam (RDD, local[2])"),
              "sparkbam_1_core": ("tab:cyan", "s", "sparkbam, one core"),
              "hadoop_bam": ("tab:red", "^", "hadoop-bam (driver)")}
    for axis, size in zip(axes[0], sizes):
        chosen = sorted((r for r in rows if r["split_size"] == size), key=lambda r: r["bytes"])
        megabytes = [r["bytes"] / 1e6 for r in chosen]
        for side, (color, marker, label) in styles.items():
            axis.plot(megabytes, [r["seconds"][side] for r in chosen], marker=marker, color=color, label=label)
        axis.set_title(f"split size {size}")
        axis.set_xlabel("BAM size (MB)")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("split computation (s)")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def markdown(rows) -> str:
    lines = ["| BAM | MB | split size | splits | sparkbam, data source (s) | sparkbam, RDD (s) "
             "| sparkbam, 1 core (s) | hadoop-bam, driver (s) | splits differing |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        s = r["seconds"]
        lines.append(f"| {r['bam']} | {r['bytes'] / 1e6:.0f} | {r['split_size']} | {r['splits']} | {s['sparkbam']} "
                     f"| {s['sparkbam_rdd']} | {s['sparkbam_1_core']} | {s['hadoop_bam']} | {r['differing']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bams", nargs="+", type=Path, default=DEFAULT_BAMS)
    parser.add_argument("--split-sizes", nargs="+", default=DEFAULT_SPLIT_SIZES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/out/splits.json"))
    parser.add_argument("--plot", type=Path, default=Path("bench/figures/split_times.png"))
    args = parser.parse_args(argv)
    spark = get_spark("bench-splits", master="local[2]")
    warm_up(spark, str(args.bams[0]))
    warm_up(spark, str(args.bams[0]), method="mapInArrow")
    rows = []
    for bam in args.bams:
        for split_size in args.split_sizes:
            rows.append(measure(spark, bam, split_size, args.repeat))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    plot(rows, args.plot)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
