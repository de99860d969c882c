"""Write throughput: load a BAM and write it back as BAM on local Spark, beside samtools.

Usage::

    python bench/bench_write.py BAM [--cores 2] [--repeats 3] [--out-dir DIR] [--json]

Cases, each run ``--repeats`` times in turn (medians reported; the machine is shared):

* ``samtools view -b -@N``: BAM to BAM, N threads;
* ``samtools sort -@N``: coordinate sort, N threads;
* ``sparkbam write``: ``write_bam(load(BAM), OUT)`` on ``local[N]`` (decode + encode +
  deflate + commit, with ``.bai``/``.sbi``);
* ``sparkbam write --sort``: the same with ``sort=True`` (range partition + sort);
* ``encode+write, 1 core``: the task code alone (decode, encode, deflate, commit), pinned
  to one core with ``taskset`` (when present), no Spark.

Records/s per core divides by the cores each case was given.  Ratios compare each of our
cases with the samtools case doing the same job.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_timed(command, env=None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def count_records(path: str) -> int:
    out = subprocess.run(["samtools", "view", "-c", path], check=True, capture_output=True, text=True)
    return int(out.stdout)


def spark_case(bam: str, out: str, cores: int, sort: bool) -> list:
    """Our write on local[cores], timed in a child process (one fresh session per case)."""
    code = f"""
import time, sparkbam_py
from sparkbam_py.spark.session import get_spark
spark = get_spark("bench-write", master="local[{cores}]", config={{"spark.ui.enabled": "false",
                  "spark.sql.shuffle.partitions": "{4 * cores}"}})
sparkbam_py.register(spark)
reads = spark.read.format("bam").load({bam!r})
spark.range({cores}).count()
started = time.perf_counter()
sparkbam_py.write_bam(reads, {out!r}, header_from={bam!r}, sort={sort}, overwrite=True, check_refs=False)
print(time.perf_counter() - started)
"""
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def single_core_case(bam: str, out: str) -> float:
    """The task code without Spark on one pinned core: decode, encode, deflate, commit."""
    code = f"""
import sys, time
sys.path.insert(0, {str(HERE.parent / "tests")!r})
from write_helpers import write_without_spark
started = time.perf_counter()
write_without_spark({bam!r}, {out!r}, parts=1, rows=20000)
print(time.perf_counter() - started)
"""
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    result = subprocess.run(pin + [sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--skip-single-core", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir or tempfile.mkdtemp(prefix="bench-write-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    records = count_records(args.bam)
    n = args.cores
    cases = {
        f"samtools view -b -@{n}": (n, lambda: run_timed(["samtools", "view", "-b", f"-@{n}", "-o",
                                                          str(out_dir / "st.bam"), args.bam])),
        f"samtools sort -@{n}": (n, lambda: run_timed(["samtools", "sort", f"-@{n}", "-o",
                                                       str(out_dir / "sts.bam"), args.bam])),
        f"sparkbam write local[{n}]": (n, lambda: spark_case(args.bam, str(out_dir / "sb.bam"), n, False)),
        f"sparkbam write --sort local[{n}]": (n, lambda: spark_case(args.bam, str(out_dir / "sbs.bam"), n, True)),
    }
    if not args.skip_single_core:
        cases["encode+write, 1 core (no Spark)"] = (1, lambda: single_core_case(args.bam, str(out_dir / "one.bam")))
    seconds = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (_, run) in cases.items():
            seconds[name].append(run())
    report = {"bam": args.bam, "records": records, "cores": n, "repeats": args.repeats, "cases": {}}
    for name, (cores, _) in cases.items():
        median = statistics.median(seconds[name])
        report["cases"][name] = {"seconds": [round(s, 2) for s in seconds[name]], "median_s": round(median, 2),
                                 "records_per_s_per_core": round(records / median / cores)}
    view, sort = report["cases"][f"samtools view -b -@{n}"], report["cases"][f"samtools sort -@{n}"]
    report["ratios"] = {
        "write / samtools view": round(view["median_s"] / report["cases"][f"sparkbam write local[{n}]"]["median_s"], 3),
        "write --sort / samtools sort": round(
            sort["median_s"] / report["cases"][f"sparkbam write --sort local[{n}]"]["median_s"], 3),
    }
    sizes = {p.name: p.stat().st_size for p in out_dir.glob("*.bam")}
    report["output_bytes"] = sizes
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for name, case in report["cases"].items():
            print(f"{name:40s} median {case['median_s']:8.2f} s  {case['records_per_s_per_core']:>10,} rec/s/core"
                  f"  runs {case['seconds']}")
        for name, ratio in report["ratios"].items():
            print(f"speed ratio {name}: {ratio} (above 1: ours faster)")
        print("output sizes:", sizes)
    if not args.out_dir:
        shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sys.exit(main())
