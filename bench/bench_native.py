"""Native-speed benchmarks (issue 12): ours against samtools, oxbow and polars-bio, same run.

    .venv/bin/python bench/bench_native.py BAM [--jobs count,decode,parquet,noop,delta] [--repeat 3] [--json OUT]

* ``count``: one core (``taskset -c 0``), CPU seconds: our chain walk from compressed bytes,
  BGZF CRC32 checked (compiled and pure-Python walks) vs ``samtools view -c -@0``.
* ``decode``: one core, CPU seconds: all 13 columns with the ``tags`` map into Arrow vs
  oxbow ``from_bam(BAM).with_tags()`` batches (and our ``typed_tags`` struct instead of the map).
* ``parquet``: wall seconds on the 2 cores: ``sparkbam_py.convert`` on ``local[2]`` vs
  polars-bio ``read_bam(BAM).write_parquet(OUT)`` with 2 threads; the Spark-free paths
  (``convert_local(workers=2)``, and ``iter_batches(workers=2)`` into one writer); the JVM row
  path (``spark.read.format("bam").load().write.parquet()``) for reference.
* ``noop``: the full-schema DataFrame on ``local[2]`` into ``write.format("noop")``, with the
  map and with typed tags instead; records/s per core.
* ``delta``: ``convert --to delta``; the table read by deltalake and its files by Spark.

Every figure is a median of ``--repeat`` runs; the peers run in the same invocation, alternating
with ours.  The Spark jobs run on a warm session (its start-up is reported apart, with one
untimed run of each job first); beside each wall time are the CPU seconds of the whole process
tree (the JVM, its Python workers, the driver), so a loaded machine still gives comparable work
figures, and the load average before and after each job.
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

PYTHON = sys.executable
HERE = os.path.dirname(os.path.abspath(__file__))


def child_cpu(command, env=None) -> float:
    """User + system CPU seconds of a child process (and its children), pinned to core 0."""
    before = os.times()
    subprocess.run(["taskset", "-c", "0", *command], check=True, env=env, stdout=subprocess.DEVNULL)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int):
    """(parent pid, user+system CPU s of the process and of its reaped children) from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def tree_cpu(root: int) -> float:
    """CPU seconds so far of ``root`` and every live descendant (dead ones count in their
    reaping parent's children time): the JVM, its Python daemon and workers."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stats[int(name)] = _proc_stat(int(name))
            except (OSError, IndexError, ValueError):
                continue  # the process ended while the table was read
    children = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += stats[pid][1]
            stack.extend(children.get(pid, []))
    return total


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def python_cpu(snippet: str, bam: str, env_extra=None, extra_args=()) -> float:
    """CPU seconds a Python snippet reports for itself (imports excluded), pinned to core 0."""
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run(["taskset", "-c", "0", PYTHON, "-c", snippet, bam, *extra_args], check=True, env=env,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


COUNT_OURS = """
import sys, time
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.sequential import open_runs
from sparkbam_py.kernels import compiled
from sparkbam_py.bam.walk import chain_kernel
# numba's import and the kernels' cache loads (the walk, and the inflate with its libraries)
# are a worker's one-time start-up, not per record.
compiled(chain_kernel)
with open_bam(sys.argv[1]) as bam:
    open_runs(bam.reader, bam.header.end.block_pos, 1).next_run(None)
    bam.reader.verify_checksums = True
    started = time.process_time()
    n = bam.count_records()
    print(n); print(time.process_time() - started)
"""

INFLATE_ONLY = """
import sys, time
from sparkbam_py.bam.file import open_bam
with open_bam(sys.argv[1]) as bam:
    bam.reader.verify_checksums = True
    started = time.process_time()
    n = sum(len(block.data) for block in bam.reader.iter_blocks(0))
    print(n); print(time.process_time() - started)
"""

DECODE_OURS = """
import sys, time
import pyarrow as pa
from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.typed_tags import discover_tags
from sparkbam_py.bam.schema import DEFAULT_COLUMNS
typed = len(sys.argv) > 2
spec = discover_tags(sys.argv[1]) if typed else None
columns = [c for c in DEFAULT_COLUMNS if c != "tags"] if typed else None
# numba's import and the kernels' cache loads are a worker's one-time start-up, not per record
# (as for the count): one chunk decoded first, outside the timer.
with open_bam(sys.argv[1]) as bam:
    chunk = next(iter(bam.iter_record_chunks()))
    decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names, columns, typed_tags=spec)
with open_bam(sys.argv[1]) as bam:
    bam.reader.verify_checksums = True
    names = pa.array(bam.header.reference_names, pa.string())
    started = time.process_time()
    n = 0
    for chunk in bam.iter_record_chunks():
        n += decode_records(chunk.run.data, chunk.offsets, names, columns, typed_tags=spec).num_rows
    print(n); print(time.process_time() - started)
"""

DECODE_OXBOW = """
import sys, time
import oxbow as ox
started = time.process_time()
n = sum(batch.num_rows for batch in ox.from_bam(sys.argv[1]).with_tags().batches())
print(n); print(time.process_time() - started)
"""

POLARS_BIO = """
import os, sys, time
import polars_bio as pb
pb.set_option(pb.POLARS_BIO_MAX_THREADS, "2")
started = time.perf_counter()
pb.read_bam(sys.argv[1]).write_parquet(sys.argv[2])
print(time.perf_counter() - started)
"""


LOCAL_PARQUET = """
import sys, time
from sparkbam_py.bam.schema import bam_schema
from sparkbam_py.convert.commit import commit
from sparkbam_py.convert.target import OutputTarget
from sparkbam_py.convert.writer import write_task
from sparkbam_py.local import iter_batches
if __name__ == "__main__":
    started = time.perf_counter()
    target = OutputTarget(sys.argv[2])
    files = write_task(iter_batches(sys.argv[1], workers=2), bam_schema(), target, 0)
    commit(target, "parquet", "error", bam_schema(), files)
    print(time.perf_counter() - started)
"""

# The Spark-free converter: local threads decode and write each split's own files.
LOCAL_CONVERT = """
import sys, time
from sparkbam_py import convert_local
from sparkbam_py.kernels import compiled
from sparkbam_py.bam.walk import chain_kernel
compiled(chain_kernel)  # numba's import, as in a warm Spark worker
started = time.perf_counter()
convert_local(sys.argv[1], sys.argv[2], workers=2)
print(time.perf_counter() - started)
"""


def median(values):
    return statistics.median(values)


def bench_count(bam, repeat):
    ours = [python_cpu(COUNT_OURS, bam) for _ in range(repeat)]
    python_walk = [python_cpu(COUNT_OURS, bam, {"SPARKBAM_KERNELS": "python"}) for _ in range(repeat)]
    samtools = [child_cpu(["samtools", "view", "-c", "-@0", bam]) for _ in range(repeat)]
    inflate = [python_cpu(INFLATE_ONLY, bam) for _ in range(repeat)]
    return {"ours_cpu_s": median(ours), "ours_python_walk_cpu_s": median(python_walk),
            "inflate_and_crc_only_cpu_s": median(inflate),
            "samtools_cpu_s": median(samtools), "ratio": median(samtools) / median(ours)}


def bench_decode(bam, repeat):
    ours = [python_cpu(DECODE_OURS, bam) for _ in range(repeat)]
    typed = [python_cpu(DECODE_OURS, bam, extra_args=["typed"]) for _ in range(repeat)]
    oxbow = [python_cpu(DECODE_OXBOW, bam) for _ in range(repeat)]
    return {"ours_cpu_s": median(ours), "ours_typed_tags_cpu_s": median(typed), "oxbow_with_tags_cpu_s": median(oxbow),
            "ratio": median(oxbow) / median(ours), "ratio_typed": median(oxbow) / median(typed)}


def spark_session():
    """A ``local[2]`` session with the sources registered, and its start-up wall seconds."""
    started = time.perf_counter()
    from sparkbam_py.spark.session import get_spark

    spark = get_spark("bench-native", master="local[2]")
    import sparkbam_py

    sparkbam_py.register(spark)
    return spark, time.perf_counter() - started


def wall(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class SparkMeter:
    """Wall and CPU seconds (JVM + Python workers + this driver) of jobs on one session."""

    def __init__(self, spark):
        self.jvm = spark.sparkContext._gateway.proc.pid

    def cpu(self) -> float:
        return tree_cpu(self.jvm) + time.process_time()

    def run(self, fn, walls: list, cpus: list) -> None:
        cpu_before, started = self.cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(self.cpu() - cpu_before)


def timed_child(command, env=None) -> tuple:
    """(wall s the child reports for its work, imports excluded; wall s of the whole process;
    CPU s of the whole process) of a Python child that prints its own wall time last."""
    before, started = os.times(), time.perf_counter()
    text = subprocess.run(command, check=True, env=env, capture_output=True, text=True).stdout
    process_wall, after = time.perf_counter() - started, os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return float(text.strip().splitlines()[-1]), process_wall, cpu


def medians(figures: dict) -> dict:
    return {key: round(median(values), 3) for key, values in figures.items() if values}


def bench_parquet(bam, repeat, spark, scratch):
    """Ours (Spark and Spark-free) vs polars-bio and the JVM row path, alternating, same run."""
    import sparkbam_py

    out = os.path.join(scratch, "out")
    meter = SparkMeter(spark)
    script = os.path.join(scratch, "local_parquet.py")
    with open(script, "w") as handle:
        handle.write(LOCAL_PARQUET)
    convert_script = os.path.join(scratch, "local_convert.py")
    with open(convert_script, "w") as handle:
        handle.write(LOCAL_CONVERT)
    polars_env = dict(os.environ, POLARS_MAX_THREADS="2")

    def ours():
        shutil.rmtree(out, ignore_errors=True)
        sparkbam_py.convert(spark, bam, out)

    def jvm_path():
        spark.read.format("bam").load(bam).write.mode("overwrite").parquet(out)

    def child(name, command, env=None):
        shutil.rmtree(out, ignore_errors=True)
        if os.path.exists(out + ".parquet"):
            os.remove(out + ".parquet")
        work, process, cpu = timed_child(command, env)
        figures[f"{name}_wall_s"].append(work)
        figures[f"{name}_process_wall_s"].append(process)
        figures[f"{name}_cpu_s"].append(cpu)

    names = ("ours_convert", "polars_bio", "local_iter_batches_workers2", "local_convert_workers2", "jvm_write_parquet")
    figures = {f"{name}_{kind}": [] for name in names for kind in ("wall_s", "process_wall_s", "cpu_s")}
    figures["load_average"] = []
    ours()  # warm the Python workers (numba's cache, imports) before anything is timed
    jvm_path()
    for _ in range(repeat):
        figures["load_average"].append(load_average())
        meter.run(ours, figures["ours_convert_wall_s"], figures["ours_convert_cpu_s"])
        child("polars_bio", [PYTHON, "-c", POLARS_BIO, bam, out + ".parquet"], polars_env)
        child("local_iter_batches_workers2", [PYTHON, script, bam, out])
        child("local_convert_workers2", [PYTHON, convert_script, bam, out])
        meter.run(jvm_path, figures["jvm_write_parquet_wall_s"], figures["jvm_write_parquet_cpu_s"])
    figures["load_average"].append(load_average())
    result = medians(figures)
    polars = result["polars_bio_wall_s"]
    result["ratio_vs_polars_bio"] = round(result["ours_convert_wall_s"] / polars, 3)
    result["local_ratio_vs_polars_bio"] = round(result["local_iter_batches_workers2_wall_s"] / polars, 3)
    result["local_convert_ratio_vs_polars_bio"] = round(result["local_convert_workers2_wall_s"] / polars, 3)
    result["jvm_ratio_vs_polars_bio"] = round(result["jvm_write_parquet_wall_s"] / polars, 3)
    result["load_average_range"] = [min(figures["load_average"]), max(figures["load_average"])]
    return result


def bench_noop(bam, repeat, spark, records):
    """The full-schema DataFrame into ``noop``, and with typed tags instead of the map."""
    from sparkbam_py.bam.schema import DEFAULT_COLUMNS

    meter = SparkMeter(spark)

    def full():
        spark.read.format("bam").load(bam).write.format("noop").mode("overwrite").save()

    def typed():
        frame = spark.read.format("bam").option("tags", "auto").load(bam)
        frame.select(*[c for c in DEFAULT_COLUMNS if c != "tags"], "typed_tags").write.format("noop").mode("overwrite").save()

    figures = {"full_wall_s": [], "full_cpu_s": [], "typed_tags_wall_s": [], "typed_tags_cpu_s": [], "load_average": []}
    full()  # warm
    typed()
    for _ in range(repeat):
        figures["load_average"].append(load_average())
        meter.run(full, figures["full_wall_s"], figures["full_cpu_s"])
        meter.run(typed, figures["typed_tags_wall_s"], figures["typed_tags_cpu_s"])
    figures["load_average"].append(load_average())
    result = medians(figures)
    result["load_average_range"] = [min(figures["load_average"]), max(figures["load_average"])]
    for name in ("full", "typed_tags"):
        result[f"{name}_rec_per_s_per_core"] = round(records / result[f"{name}_wall_s"] / 2)
        # What the wall figure would be if the job had both cores to itself.
        result[f"{name}_rec_per_cpu_s"] = round(records / result[f"{name}_cpu_s"])
    result["ratio_vs_234k"] = round(result["full_rec_per_s_per_core"] / 234_199, 3)
    return result


def bench_delta(bam, spark, scratch):
    import deltalake

    import sparkbam_py

    out = os.path.join(scratch, "delta")
    seconds = wall(lambda: sparkbam_py.convert(spark, bam, out, to="delta"))
    table = deltalake.DeltaTable(out)
    return {"convert_wall_s": round(seconds, 3), "deltalake_rows": table.count(),
            "spark_rows_of_its_files": spark.read.parquet(*table.file_uris()).count(), "files": len(table.file_uris())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--jobs", default="count,decode,parquet,noop,delta")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args(argv)
    jobs = args.jobs.split(",")
    records = int(subprocess.run(["samtools", "view", "-c", args.bam], check=True, capture_output=True,
                                 text=True).stdout)
    results = {"bam": os.path.basename(args.bam), "records": records, "repeat": args.repeat,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if "count" in jobs:
        results["count"] = bench_count(args.bam, args.repeat)
        print(json.dumps({"count": results["count"]}), flush=True)
    if "decode" in jobs:
        results["decode"] = bench_decode(args.bam, args.repeat)
        print(json.dumps({"decode": results["decode"]}), flush=True)
    spark_jobs = [job for job in jobs if job in ("parquet", "noop", "delta")]
    if spark_jobs:
        spark, results["spark_session_start_s"] = spark_session()
        print(json.dumps({"spark_session_start_s": round(results["spark_session_start_s"], 2)}), flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-native-") as scratch:
            try:
                run_spark_jobs(args, jobs, records, results, spark, scratch)
            finally:
                spark.stop()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


def run_spark_jobs(args, jobs, records, results, spark, scratch) -> None:
    if "parquet" in jobs:
        results["parquet"] = bench_parquet(args.bam, args.repeat, spark, scratch)
        print(json.dumps({"parquet": results["parquet"]}), flush=True)
    if "noop" in jobs:
        results["noop"] = bench_noop(args.bam, args.repeat, spark, records)
        print(json.dumps({"noop": results["noop"]}), flush=True)
    if "delta" in jobs:
        results["delta"] = bench_delta(args.bam, spark, scratch)
        print(json.dumps({"delta": results["delta"]}), flush=True)


if __name__ == "__main__":
    main()
