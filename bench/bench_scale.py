"""Scale proof: every Spark job on a BAM and on a copy k times as large, time and peak memory.

Usage::

    python bench/bench_scale.py BAM [--factor 4] [--jobs count,noop,convert,write,sort]
        [--cores 2] [--work DIR] [--keep-big] [--json]

The large copy is ``samtools cat`` of ``factor`` copies of BAM, made once in WORK and reused:
``factor`` times the bytes, blocks exactly as compressible as the original's (a merge would
put each read beside its copies, and deflate would shrink the file to little more than the
original).  It is ``factor`` sorted runs, so a plain write of it gets no ``.bai``; a sort
puts the copies of each read side by side, so its output compresses better than the
original's (its bytes are reported beside the time).  Each job runs on both files in a fresh process on ``local[cores]``:

* ``count``: ``count_reads`` (the block_size chain walk, nothing decoded);
* ``noop``: ``format("bam").load(BAM).write.format("noop")`` (the full read schema);
* ``convert``: ``sparkbam_py.convert`` to Parquet;
* ``write``: ``write_bam`` of the record column (bytes as stored, with ``.bai``/``.sbi``);
* ``sort``: ``write_bam(sort=True)`` of the same.

Spark's scratch space (``spark.local.dir``) is WORK/spark-local, emptied after each job, and
shuffles are compressed with zstd (``spark.io.compression.codec``): a sort of the large copy
of a 30x genome shuffles some 40 GB of inflated records, and zstd keeps its scratch files
smaller than Spark's default lz4 does.

While a job runs, its process tree is sampled every 0.2 s (``/proc`` through psutil): the
driver (the job's Python process), the JVM, and each Python worker (pyspark's daemon and
the workers it forks), keeping each process's peak RSS.  "Linear" is ``factor`` times the
small file's seconds; the ratio is the large file's seconds over that.  Outputs are removed
after each job; the merged copy too unless ``--keep-big``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RECORD_SCHEMA = "reference_name string, next_reference_name string, record binary"
JOBS = ("count", "noop", "convert", "write", "sort")
_JOB = """
import json, sys, time
import sparkbam_py
from sparkbam_py.spark.session import get_spark
job, bam, out, cores, local_dir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[6]
spark = get_spark("bench-scale", master=f"local[{cores}]",
                  config={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": str(4 * cores),
                          "spark.local.dir": local_dir, "spark.io.compression.codec": "zstd"})
sparkbam_py.register(spark)
spark.range(cores).count()
started = time.perf_counter()
if job == "count":
    result = sparkbam_py.count_reads(spark, bam)
elif job == "noop":
    spark.read.format("bam").load(bam).write.format("noop").mode("overwrite").save()
    result = None
elif job == "convert":
    result = sparkbam_py.convert(spark, bam, out).rows
else:
    reads = spark.read.format("bam").schema(sys.argv[5]).load(bam)
    result = sparkbam_py.write_bam(reads, out, header_from=bam, sort=job == "sort", check_refs=False)["records"]
print(json.dumps({"seconds": time.perf_counter() - started, "result": result}))
"""


class TreeSampler(threading.Thread):
    """Peak RSS of each process under ``pid``, by role, sampled until stopped."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peaks = {}  # pid -> (role, peak RSS bytes)
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._done.is_set():
            try:
                processes = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss, role = process.memory_info().rss, _role(process)
                except psutil.Error:
                    continue
                previous = self.peaks.get(process.pid, (role, 0))[1]
                self.peaks[process.pid] = (role, max(previous, rss))
            self._done.wait(self.interval)

    def stop(self) -> dict:
        self._done.set()
        self.join()
        by_role = {}
        for role, peak in self.peaks.values():
            by_role.setdefault(role, []).append(peak)
        return {role: {"processes": len(peaks), "max_peak_mib": round(max(peaks) / 2**20, 1)}
                for role, peaks in by_role.items()}


def _role(process) -> str:
    command = " ".join(process.cmdline())
    if "java" in process.name():
        return "jvm"
    if "pyspark.daemon" in command or "pyspark.worker" in command or "pyspark.sql.worker" in command:
        return "python_worker"
    if "-c" in process.cmdline() and "bench-scale" in command:
        return "driver"
    return "other"


def run_job(job: str, bam: str, out: str, cores: int, local_dir: Path) -> dict:
    started = time.perf_counter()
    local_dir.mkdir(exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", _JOB, job, bam, out, str(cores), RECORD_SCHEMA, str(local_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(child.pid)
    sampler.start()
    stdout, stderr = child.communicate()
    memory = sampler.stop()
    if child.returncode:
        raise RuntimeError(f"{job} on {bam} failed:\n{stderr[-3000:]}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    written = Path(out)
    return {"seconds": round(figures["seconds"], 2), "process": round(time.perf_counter() - started, 2),
            "result": figures["result"], "memory": memory,
            "output_bytes": written.stat().st_size if written.is_file() else None}


def make_big_copy(bam: str, factor: int, work: Path) -> Path:
    big = work / f"x{factor}.bam"
    if not big.exists():
        partial = work / f".x{factor}.partial.bam"
        subprocess.run(["samtools", "cat", "--no-PG", "-o", str(partial)] + [bam] * factor, check=True)
        partial.rename(big)
    return big


def remove(path: Path) -> None:
    for candidate in [path] + [Path(str(path) + suffix) for suffix in (".bai", ".csi", ".sbi")]:
        if candidate.is_dir():
            shutil.rmtree(candidate, ignore_errors=True)
        elif candidate.exists():
            candidate.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--work", default=None, help="where the copy and outputs go (default: a temporary folder)")
    parser.add_argument("--keep-big", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    big = make_big_copy(args.bam, args.factor, work)
    report = {"bam": args.bam, "factor": args.factor, "cores": args.cores,
              "bytes": {"1x": os.path.getsize(args.bam), f"{args.factor}x": big.stat().st_size},
              "load_average_before": os.getloadavg()[0], "jobs": {}}
    try:
        for job in args.jobs.split(","):
            runs = {}
            for label, path in (("1x", args.bam), (f"{args.factor}x", str(big))):
                out = work / f"out-{job}-{label}"
                try:
                    runs[label] = run_job(job, path, str(out) + ("" if job == "convert" else ".bam"), args.cores,
                                          work / "spark-local")
                finally:
                    remove(out)
                    remove(Path(str(out) + ".bam"))
                    remove(work / "spark-local")
            small, large = runs["1x"]["seconds"], runs[f"{args.factor}x"]["seconds"]
            runs["ratio_to_linear"] = round(large / (args.factor * small), 3)
            report["jobs"][job] = runs
            print(json.dumps({job: runs}), file=sys.stderr, flush=True)
    finally:
        report["load_average_after"] = os.getloadavg()[0]
        if not args.keep_big:
            big.unlink(missing_ok=True)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1) if args.json else report)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sys.exit(main())
