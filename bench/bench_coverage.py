"""Per-base coverage of a BAM: ours on Spark ``local[2]`` beside ``mosdepth -t 2`` and
``samtools depth -a``, in the same run, wall times, medians over repeats.

Ours is timed on a warm session (Spark started and one coverage job run, so its Python
workers have imported the library and loaded the compiled kernels, as in a notebook); the
session start and that first job are reported apart.  CPU seconds (user + system) are
reported beside wall times, since the machine is shared: for the tools from the kernel's
child accounting, for ours on Spark from the JVM and its Python workers (the process tree),
and for the same tasks run in this one process (``compute_coverage_local``).  The wall time
of each phase of our Spark run (planning, tasks, summing the partials and writing the store)
comes from ``compute_coverage``'s debug log; one in-process breakdown splits the tasks' CPU
into the record walk (inflate + chain walk) and the rest (the depth kernel and the events).
Our ``all`` track is checked against samtools' output at every base.  mosdepth's per-base
output (its default, mate overlaps corrected) and ``-x`` (fast mode) are both timed; neither
follows samtools' exact rules, they are the speed reference.

Usage: python bench/bench_coverage.py BAM [--repeat 3] [--split-size SIZE] [--out bench/out/coverage.json]
"""
from __future__ import annotations

import argparse
import ctypes.util
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sparkbam_py.coverage.compute import compute_coverage_local
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.config import DEFAULT_SPLIT_SIZE, parse_size
from sparkbam_py.spark.coverage import compute_coverage
from sparkbam_py.spark.session import get_spark


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_command(command, env=None):
    """(wall seconds, CPU seconds) of one run of ``command``."""
    cpu, started = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - started, children_cpu() - cpu


def tree_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and its descendants, reaped children included."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for process in [root] + root.children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class PhaseLog(logging.Handler):
    """Keeps the phase timings ``compute_coverage`` logs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.phases = []

    def emit(self, record):
        if hasattr(record, "coverage_phases"):
            self.phases.append(record.coverage_phases)


def timed_spark(spark, bam: str, out: Path, split_size: str, jvm_pid: int):
    """(wall, CPU of the JVM and its Python workers, CPU of this driver) of one Spark run."""
    cpu, driver, started = tree_cpu(jvm_pid), time.process_time(), time.perf_counter()
    compute_coverage(spark, bam, str(out), split_size=split_size)
    return time.perf_counter() - started, tree_cpu(jvm_pid) - cpu, time.process_time() - driver


def in_process_breakdown(bam: str, split_size: str) -> dict:
    """CPU seconds, in this process, of the record walk alone, of whole split depths, and of
    summing the partials and writing a store."""
    from sparkbam_py.coverage.compute import plan_coverage, write_store
    from sparkbam_py.coverage.partials import PartialDepth
    from sparkbam_py.coverage.split_depth import compute_split_depth
    from sparkbam_py.bam.splits import SplitReader

    plan = plan_coverage([bam], split_size=parse_size(split_size or DEFAULT_SPLIT_SIZE))
    started = time.process_time()
    for task in plan.tasks:
        with SplitReader(task) as split:
            for _ in split.iter_chunks():
                pass
    walk = time.process_time() - started
    started = time.process_time()
    partials = [compute_split_depth(task, plan.job) for task in plan.tasks]
    depth = time.process_time() - started
    started = time.process_time()
    total = PartialDepth(plan.job.chunk_length, plan.job.n_tracks)
    for partial in partials:
        for key, events in partial.merged():
            total.add(key, events)
    with tempfile.TemporaryDirectory() as out:
        write_store(out, plan, ((c, k, e) for (c, k), e in total.merged()))
    store = time.process_time() - started
    return {"tasks": len(plan.tasks), "walk_cpu": round(walk, 3), "split_depth_cpu": round(depth, 3),
            "depth_beyond_walk_cpu": round(depth - walk, 3), "sum_and_store_cpu": round(store, 3)}


def timed_local(bam: str, out: Path, split_size: str):
    """(wall, CPU) of our tasks run one after another in this process."""
    cpu, started = time.process_time(), time.perf_counter()
    compute_coverage_local([bam], str(out), split_size=parse_size(split_size or DEFAULT_SPLIT_SIZE))
    return time.perf_counter() - started, time.process_time() - cpu


def mosdepth_env(workdir: Path) -> dict:
    """Debian's mosdepth dlopens ``libhts.so``, which only libhts-dev provides; point it at
    the runtime library (libhts.so.3) through a symlink when the plain name is missing."""
    env = dict(os.environ)
    if ctypes.util.find_library("hts") and Path("/usr/lib/x86_64-linux-gnu/libhts.so").exists():
        return env
    for candidate in Path("/usr/lib").glob("*/libhts.so.*"):
        (workdir / "lib").mkdir(exist_ok=True)
        link = workdir / "lib" / "libhts.so"
        if not link.exists():
            link.symlink_to(candidate)
        env["LD_LIBRARY_PATH"] = f"{link.parent}:{env.get('LD_LIBRARY_PATH', '')}"
        break
    return env


def samtools_all(bam: str, out: Path) -> dict:
    subprocess.run(["samtools", "depth", "-a", "-o", str(out), bam], check=True)
    import pandas

    table = pandas.read_csv(out, sep="\t", header=None, names=["contig", "pos", "depth"],
                            dtype={"contig": str, "pos": np.int64, "depth": np.int64})
    return {name: group for name, group in table.groupby("contig", sort=False)}


def check_against_samtools(store: CoverageStore, truth: dict) -> bool:
    for contig in store.contigs:
        name, length = contig["name"], contig["length"]
        expected = np.zeros(length, dtype=np.int64)
        if name in truth:
            rows = truth[name]
            inside = rows["pos"].to_numpy() <= length
            expected[rows["pos"].to_numpy()[inside] - 1] = rows["depth"].to_numpy()[inside]
        if not np.array_equal(store.values(name, 0, length)[:, 0].astype(np.int64), expected):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--split-size", default=None, help="default: the library's (two tasks per core here)")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-coverage-"))
    phase_log = PhaseLog()
    coverage_log = logging.getLogger("sparkbam_py.spark.coverage")
    coverage_log.setLevel(logging.DEBUG)
    coverage_log.addHandler(phase_log)
    started = time.perf_counter()
    spark = get_spark("bench-coverage", master="local[2]", config={"spark.ui.enabled": "false"})
    spark.sparkContext.parallelize(range(2), 2).map(abs).count()
    session_seconds = time.perf_counter() - started
    jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    first_job_seconds = timed_spark(spark, args.bam, work / "first", args.split_size, jvm_pid)[0]
    phase_log.phases.clear()
    env = mosdepth_env(work)
    times = {"ours_local2": [], "ours_one_process": [], "mosdepth_t2": [], "mosdepth_t2_fast": [],
             "samtools_depth_a": []}
    cpu = {name: [] for name in times}
    driver_cpu = []
    runs = {
        "ours_one_process": lambda: timed_local(args.bam, work / "local", args.split_size),
        "mosdepth_t2": lambda: timed_command(["mosdepth", "-t", "2", str(work / "m"), args.bam], env),
        "mosdepth_t2_fast": lambda: timed_command(["mosdepth", "-t", "2", "-x", str(work / "mx"), args.bam], env),
        "samtools_depth_a": lambda: timed_command(["samtools", "depth", "-a", "-o", os.devnull, args.bam]),
    }
    for repeat in range(args.repeat):
        wall, seconds, driver = timed_spark(spark, args.bam, work / f"store{repeat}", args.split_size, jvm_pid)
        times["ours_local2"].append(wall)
        cpu["ours_local2"].append(seconds + driver)
        driver_cpu.append(driver)
        for name, run in runs.items():
            wall, seconds = run()
            times[name].append(wall)
            cpu[name].append(seconds)
        print(f"repeat {repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
              + f"; phases {phase_log.phases[-1]}", flush=True)
    spark.stop()
    breakdown = in_process_breakdown(args.bam, args.split_size)
    equal = check_against_samtools(CoverageStore(work / "store0"), samtools_all(args.bam, work / "samtools.tsv"))
    medians = {name: round(statistics.median(values), 2) for name, values in times.items()}
    cpu_medians = {name: round(statistics.median(values), 2) for name, values in cpu.items()}
    phase_names = [name for name in phase_log.phases[0] if name != "tasks"]
    result = {
        "bam": args.bam, "bam_bytes": os.path.getsize(args.bam), "split_size": args.split_size,
        "repeat": args.repeat, "session_start_seconds": round(session_seconds, 2),
        "first_job_seconds": round(first_job_seconds, 2), "median_seconds": medians,
        "median_cpu_seconds": cpu_medians, "median_driver_cpu_seconds": round(statistics.median(driver_cpu), 2),
        "ours_local2_median_phase_seconds": {name: round(statistics.median(p[name] for p in phase_log.phases), 3)
                                             for name in phase_names} | {"tasks": phase_log.phases[0]["tasks"]},
        "in_process_breakdown": breakdown,
        "ours_over_mosdepth": round(medians["ours_local2"] / medians["mosdepth_t2"], 2),
        "ours_over_samtools": round(medians["ours_local2"] / medians["samtools_depth_a"], 2),
        "ours_local2_cpu_over_mosdepth_cpu": round(cpu_medians["ours_local2"] / cpu_medians["mosdepth_t2"], 2),
        "ours_cpu_over_mosdepth_cpu": round(cpu_medians["ours_one_process"] / cpu_medians["mosdepth_t2"], 2),
        "all_runs": times, "all_cpu": cpu,
        "equals_samtools_depth_a": equal, "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())
