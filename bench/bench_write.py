"""Writing BAM on local Spark beside samtools: plain copies and coordinate sorts, paired.

Usage::

    python bench/bench_write.py SORTED.bam [--unsorted UNSORTED.bam] [--cores 2] [--repeats 3]
        [--cases samtools_view,view,write_record,write,...] [--out-dir DIR] [--json]

Cases (each repeat runs every case once, in this order, so peers alternate with ours):

* ``samtools_view``: ``samtools view -b -@N`` of SORTED (the peer of the plain writes);
* ``view``: ``view_bam(spark, SORTED, OUT)`` on ``local[N]``: each task copies its split's
  records into its part, nothing through the JVM (plus ``.bai`` and ``.sbi``);
* ``write_record``: ``write_bam(load(SORTED), OUT)`` with ``schema("reference_name string,
  next_reference_name string, record binary")``: each record's bytes as stored;
* ``write``: the same with the full read schema: decoded to columns, encoded back;
* ``samtools_sort``: ``samtools sort -@N`` then ``samtools index -@N`` of UNSORTED (the sort peer);
* ``view_sort``, ``sort_record``, ``sort_decoded``: ``view_bam(sort=True)``, and
  ``write_bam(load(UNSORTED), OUT, sort=True)`` from the record column / the decoded columns.

Our cases run in a fresh Python process each: "seconds" is the job alone (session started
and warmed), "process" the whole process (imports, session start-up, job, shutdown), and
"cpu" the CPU seconds of the driver, its JVM and every Python worker (process-tree
sampling: workers reaped between samples are counted through their parents), with the
peak RSS of the driver, the JVM and the largest Python worker (sampled every 50 ms).
samtools' "cpu" is its user + system time, its peak RSS the kernel's (the larger of sort's
and index's).  Output bytes are the BAM's size.
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
sys.path.insert(0, str(HERE))
from coverage_probes import run_measured  # noqa: E402
RECORD_SCHEMA = "reference_name string, next_reference_name string, record binary"
ALL_CASES = ("samtools_view", "view", "write_record", "write", "samtools_sort", "view_sort", "sort_record",
             "sort_decoded")
_SPARK_CASE = """
import json, sys, time
started = time.perf_counter()
import sparkbam_py
from sparkbam_py.spark.session import get_spark
bam, out, cores, sort, schema = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "sort", sys.argv[5]
view = schema == "view"
spark = get_spark("bench-write", master=f"local[{cores}]",
                  config={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": str(4 * cores)})
sparkbam_py.register(spark)
reader = spark.read.format("bam")
reads = (reader.schema(schema) if schema and not view else reader).load(bam)
spark.range(cores).count()
sys.path.insert(0, sys.argv[6])
from coverage_probes import SparkRss, tree_cpu as tree_cpu_of  # the JVM and its workers, reaped ones included
jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
tree_cpu = lambda: tree_cpu_of(jvm)
rss = SparkRss(jvm)
rss.start()

cpu, driver, job_started = tree_cpu(), time.process_time(), time.perf_counter()
if view:
    sparkbam_py.view_bam(spark, bam, out, sort=sort, overwrite=True)
else:
    sparkbam_py.write_bam(reads, out, header_from=bam, sort=sort, overwrite=True, check_refs=False)
seconds = time.perf_counter() - job_started
cpu = tree_cpu() - cpu + time.process_time() - driver
peaks = rss.stop()
spark.stop()
print(json.dumps({"seconds": seconds, "cpu": cpu, "startup": job_started - started, "driver_mib": peaks["driver_mib"],
                  "jvm_mib": peaks["jvm_mib"], "python_worker_mib": max(peaks["python_workers_mib"], default=0.0)}))
"""


def samtools_case(commands) -> dict:
    """One run of the samtools commands in turn: wall and CPU seconds, the largest peak RSS."""
    runs = [run_measured(command) for command in commands]
    seconds = sum(run["wall"] for run in runs)
    return {"seconds": seconds, "process": seconds, "cpu": sum(run["cpu"] for run in runs),
            "peak_rss_mib": round(max(run["peak_rss_mib"] for run in runs), 1)}


def spark_case(bam: str, out: str, cores: int, sort: bool, schema: str = "") -> dict:
    """One run of our write in a fresh process on local[cores]."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _SPARK_CASE, bam, out, str(cores), "sort" if sort else "plain",
                             schema, str(HERE)], check=True, capture_output=True, text=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process"] = time.perf_counter() - started
    return figures


def build_cases(args, out_dir: Path) -> dict:
    n, sorted_bam, unsorted = args.cores, args.bam, args.unsorted or args.bam
    view_out, sort_out = str(out_dir / "samtools_view.bam"), str(out_dir / "samtools_sort.bam")

    def ours(name, bam, sort, schema=""):
        out = str(out_dir / f"{name}.bam")
        return out, lambda: spark_case(bam, out, n, sort, schema)

    cases = {
        "samtools_view": (f"samtools view -b -@{n}", view_out,
                          lambda: samtools_case([["samtools", "view", "-b", f"-@{n}", "-o", view_out, sorted_bam]])),
        "view": (f"view_bam, local[{n}]", *ours("view", sorted_bam, False, "view")),
        "write_record": (f"write_bam, record column, local[{n}]", *ours("write_record", sorted_bam, False, RECORD_SCHEMA)),
        "write": (f"write_bam, decoded columns, local[{n}]", *ours("write", sorted_bam, False)),
        "samtools_sort": (f"samtools sort -@{n} + samtools index -@{n}", sort_out,
                          lambda: samtools_case([["samtools", "sort", f"-@{n}", "-o", sort_out, unsorted],
                                                 ["samtools", "index", f"-@{n}", sort_out]])),
        "view_sort": (f"view_bam(sort=True), local[{n}]", *ours("view_sort", unsorted, True, "view")),
        "sort_record": (f"write_bam(sort=True), record column, local[{n}]",
                        *ours("sort_record", unsorted, True, RECORD_SCHEMA)),
        "sort_decoded": (f"write_bam(sort=True), decoded columns, local[{n}]", *ours("sort_decoded", unsorted, True)),
    }
    return {name: cases[name] for name in args.cases.split(",")}


def summarise(runs: dict, cases: dict, peers: dict) -> dict:
    report = {}
    for name, (label, out, _) in cases.items():
        medians = {key: round(statistics.median(run[key] for run in runs[name]), 2)
                   for key in ("seconds", "process", "cpu")}
        report[name] = dict(label=label, **medians, runs=[round(run["seconds"], 2) for run in runs[name]],
                            bytes=os.path.getsize(out) if os.path.exists(out) else None)
        for key in ("peak_rss_mib", "driver_mib", "jvm_mib", "python_worker_mib"):
            if key in runs[name][0]:
                report[name][f"max_{key}"] = max(run[key] for run in runs[name])
    for name, peer in peers.items():
        if name in report and peer in report:
            report[name]["wall_ratio_to_peer"] = round(report[name]["seconds"] / report[peer]["seconds"], 3)
            report[name]["process_ratio_to_peer"] = round(report[name]["process"] / report[peer]["seconds"], 3)
            if report[name]["bytes"] and report[peer]["bytes"]:
                report[name]["bytes_ratio_to_peer"] = round(report[name]["bytes"] / report[peer]["bytes"], 5)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam", help="a coordinate-sorted BAM (plain writes)")
    parser.add_argument("--unsorted", help="an unsorted BAM (sorts; default: BAM)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(ALL_CASES))
    parser.add_argument("--out-dir", default=None, help="kept afterwards when given")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir or tempfile.mkdtemp(prefix="bench-write-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = build_cases(args, out_dir)
    runs = {name: [] for name in cases}
    load = [os.getloadavg()[0]]
    try:
        for _ in range(args.repeats):
            for name, (_, _, run) in cases.items():
                runs[name].append(run())
        load.append(os.getloadavg()[0])
        peers = {"view": "samtools_view", "write_record": "samtools_view", "write": "samtools_view",
                 "view_sort": "samtools_sort", "sort_record": "samtools_sort", "sort_decoded": "samtools_sort"}
        report = {"bam": args.bam, "unsorted": args.unsorted, "cores": args.cores, "repeats": args.repeats,
                  "load_average_before_after": load, "cases": summarise(runs, cases, peers)}
    finally:
        if not args.out_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for case in report["cases"].values():
            print(f"{case['label']:55s} {case['seconds']:8.2f} s  process {case['process']:8.2f} s  "
                  f"cpu {case['cpu']:8.2f} s  bytes {case['bytes']}  ratio {case.get('wall_ratio_to_peer', '')}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sys.exit(main())
