"""Per-base coverage at a human genome's size: ours on Spark ``local[2]`` beside ``mosdepth -t 2``
(per-base output), in the same run, paired A B A B, medians and per-pair ratios.

    python bench/bench_coverage.py BAM [BAM ...] [--repeat 3] [--json OUT] [--work DIR]

BAMs come from ``bench/make_human_bam.py`` (GRCh38's dictionary: 3,366 contigs).  For each:

* ours: ``compute_coverage`` on one warm ``local[2]`` session (started, and one job run, before
  any timing; the session start is reported apart); wall, CPU of the JVM and its Python
  workers plus the driver's, and the peak RSS of the driver process, the JVM and each Python
  worker (sampled every 50 ms);
* ``mosdepth -t 2 PREFIX BAM``: wall, CPU and peak RSS (the kernel's accounting);
* sizes: our store (every file), mosdepth's ``per-base.bed.gz``, and a bigWig of our ``all``
  track (``sparkbam coverage-export``, timed, with its peak RSS);
* correctness: our ``all`` track equals ``samtools depth -a`` at every base of random windows.

Finally a table extrapolating the largest BAM's figures to all of GRCh38 (3.1 Gbp) at its
depth: store and bigWig bytes per base, and CPU seconds per Gbp of ours and of mosdepth.
The machine is shared: the load average is printed before and after.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coverage_probes import SparkRss, mosdepth_env, run_measured, tree_cpu, windows_equal_samtools  # noqa: E402

from sparkbam_py.coverage.store import CoverageStore  # noqa: E402
from sparkbam_py.spark.coverage import compute_coverage  # noqa: E402
from sparkbam_py.spark.session import get_spark  # noqa: E402

GRCH38_BASES = 3_099_734_149  # the 25 primary sequences (bench/grch38.py)
CHECK_WINDOWS, CHECK_WIDTH = 6, 200_000


class PhaseLog(logging.Handler):
    """Keeps the phase timings ``compute_coverage`` logs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.phases = []

    def emit(self, record):
        if hasattr(record, "coverage_phases"):
            self.phases.append(record.coverage_phases)


def folder_bytes(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def timed_ours(spark, bam: str, out: Path, jvm_pid: int) -> dict:
    rss = SparkRss(jvm_pid)
    rss.start()
    cpu, driver, started = tree_cpu(jvm_pid), time.process_time(), time.perf_counter()
    manifest = compute_coverage(spark, bam, str(out))
    wall = time.perf_counter() - started
    return {"wall": wall, "cpu": tree_cpu(jvm_pid) - cpu + time.process_time() - driver, **rss.stop(),
            "stored_bytes": folder_bytes(out), "chunks": manifest["chunks"]}


def bench_bam(spark, bam: str, args, work: Path, jvm_pid: int, phase_log: PhaseLog) -> dict:
    env = mosdepth_env(work)
    ours, theirs, ratios = [], [], []
    for repeat in range(args.repeat):
        store = work / "store"
        shutil.rmtree(store, ignore_errors=True)
        ours.append(timed_ours(spark, bam, store, jvm_pid))
        theirs.append(run_measured(["mosdepth", "-t", "2", str(work / "m"), bam], env))
        ratios.append(ours[-1]["wall"] / theirs[-1]["wall"])
        print(f"{Path(bam).name} repeat {repeat}: ours {ours[-1]['wall']:.1f} s, mosdepth {theirs[-1]['wall']:.1f} s; "
              f"phases {phase_log.phases[-1]}", flush=True)
    per_base = work / "m.per-base.bed.gz"
    export = run_measured([sys.executable, "-m", "sparkbam_py", "coverage-export", str(work / "store"),
                           "--bigwig", str(work / "all.bw")])
    checked = windows_equal_samtools(CoverageStore(work / "store"), bam, CHECK_WINDOWS, CHECK_WIDTH)
    last = ours[-1]
    result = {
        "bam": bam, "bam_bytes": os.path.getsize(bam),
        "ours_wall_s": _median(ours, "wall"), "mosdepth_wall_s": _median(theirs, "wall"),
        "ours_over_mosdepth_wall": round(statistics.median(ratios), 3), "pair_ratios": [round(r, 3) for r in ratios],
        "ours_cpu_s": _median(ours, "cpu"), "mosdepth_cpu_s": _median(theirs, "cpu"),
        "ours_phases_s": phase_log.phases[-1],
        "driver_peak_rss_mib": max(run["driver_mib"] for run in ours), "jvm_peak_rss_mib": max(run["jvm_mib"] for run in ours),
        "python_worker_peak_rss_mib": max(max(run["python_workers_mib"], default=0) for run in ours),
        "python_workers_last_run_mib": last["python_workers_mib"],
        "mosdepth_peak_rss_mib": round(max(run["peak_rss_mib"] for run in theirs), 1),
        "store_bytes": last["stored_bytes"], "store_chunks": last["chunks"],
        "mosdepth_per_base_bed_gz_bytes": per_base.stat().st_size,
        "bigwig_bytes": (work / "all.bw").stat().st_size, "bigwig_export_s": round(export["wall"], 2),
        "bigwig_export_peak_rss_mib": round(export["peak_rss_mib"], 1),
        "windows_equal_samtools_depth_a": f"{checked} x {CHECK_WIDTH} bp",
    }
    print(json.dumps(result), flush=True)
    return result


def _median(runs, key) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def extrapolate(result: dict, covered_bases: int) -> dict:
    """All of GRCh38 at the same depth: bytes and CPU scale with the bases covered."""
    scale = GRCH38_BASES / covered_bases
    return {"covered_bases": covered_bases, "store_bytes": int(result["store_bytes"] * scale),
            "bigwig_bytes": int(result["bigwig_bytes"] * scale),
            "mosdepth_per_base_bed_gz_bytes": int(result["mosdepth_per_base_bed_gz_bytes"] * scale),
            "ours_cpu_s": round(result["ours_cpu_s"] * scale), "mosdepth_cpu_s": round(result["mosdepth_cpu_s"] * scale),
            "bam_bytes": int(result["bam_bytes"] * scale)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bams", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--covered-bases", type=int, default=161_972_618,
                        help="bases the largest BAM covers, for the GRCh38 extrapolation (default chr20-22)")
    parser.add_argument("--work", help="scratch folder (default a temporary one, removed after)")
    parser.add_argument("--json")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-coverage-"))
    work.mkdir(parents=True, exist_ok=True)
    phase_log = PhaseLog()
    coverage_log = logging.getLogger("sparkbam_py.spark.coverage")
    coverage_log.setLevel(logging.DEBUG)
    coverage_log.addHandler(phase_log)
    output = {"load_average_before": os.getloadavg(), "repeat": args.repeat}
    try:
        started = time.perf_counter()
        spark = get_spark("bench-coverage", master="local[2]", config={"spark.ui.enabled": "false"})
        spark.sparkContext.parallelize(range(2), 2).map(abs).count()
        output["session_start_s"] = round(time.perf_counter() - started, 2)
        jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
        warm = time.perf_counter()
        compute_coverage(spark, args.bams[0], str(work / "warm"))  # workers import the library, kernels compile
        output["first_job_s"] = round(time.perf_counter() - warm, 2)
        shutil.rmtree(work / "warm")
        output["bams"] = [bench_bam(spark, bam, args, work, jvm_pid, phase_log) for bam in args.bams]
        spark.stop()
        largest = max(output["bams"], key=lambda result: result["bam_bytes"])
        output["grch38_extrapolation"] = extrapolate(largest, args.covered_bases)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    output["load_average_after"] = os.getloadavg()
    print(json.dumps(output, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(output, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
