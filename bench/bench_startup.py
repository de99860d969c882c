"""Start-up and whole-process costs (issue 22, item 5), beside the reference tools, same run.

    .venv/bin/python bench/bench_startup.py BAM [--jobs import,index,read_table,threshold,count]
        [--repeat 5] [--json OUT] [--baseline SOURCE_TREE]

* ``import``: CPU seconds of ``python -c "import sparkbam_py"`` minus a bare interpreter's.
* ``index``: wall seconds of ``sparkbam index-records`` on a 6-record BAM (made here with
  pysam), beside ``samtools view -c`` on it.
* ``read_table``: whole processes pinned to core 0, CPU seconds (user + system of the
  child): ``read_table(BAM)`` (every column, the table held) and ``iter_batches`` (streamed)
  against oxbow ``from_bam(BAM).with_tags()`` batches held in a list and streamed, A B A B;
  with ``--baseline``, also ``read_table`` of another version's source tree, same rounds.
* ``threshold``: whole-process CPU of a full decode (``read_table``) and of a count (the split
  walk) on the first 1 to 64 MB of BAM, with ``SPARKBAM_KERNELS=python`` and ``=numba``: where
  loading numba starts to pay (``SPARKBAM_KERNELS_MIN_BYTES``).
* ``count``: ``count_reads`` on a warm ``local[2]`` session against ``samtools view -c -@2``,
  alternating, wall seconds.

Medians of ``--repeat`` runs; the machine's load average is printed before and after each job.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Optional

PYTHON = sys.executable
SPARKBAM = os.path.join(os.path.dirname(PYTHON), "sparkbam")
PIN = ["taskset", "-c", "0"]
PREFIX_MB = (1, 2, 4, 8, 16, 32, 64)

READ_TABLE = "import sys, sparkbam_py as sb; print(sb.read_table(sys.argv[1]).num_rows)"
ITER_BATCHES = "import sys, sparkbam_py as sb; print(sum(b.num_rows for b in sb.iter_batches(sys.argv[1])))"
OXBOW_HELD = "import sys, oxbow as ox; held = list(ox.from_bam(sys.argv[1]).with_tags().batches()); print(len(held))"
OXBOW_STREAM = "import sys, oxbow as ox; print(sum(b.num_rows for b in ox.from_bam(sys.argv[1]).with_tags().batches()))"
COUNT = ("import sys\nfrom sparkbam_py.bam.splits import SplitReader, plan_file\n"
         "total = 0\nfor task in plan_file(sys.argv[1])[1]:\n"
         "    with SplitReader(task) as reader:\n        total += reader.count()\nprint(total)")


def load() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def run_child(command, env=None) -> tuple:
    """(wall seconds, user + system CPU seconds) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed")
    return wall, usage.ru_utime + usage.ru_stime


def paired(commands: dict, repeat: int, env=None) -> dict:
    """Every command once unmeasured, then once per round, rounds repeated; medians of wall and
    CPU seconds.  Children may write bytecode (as users' interpreters do): with
    ``PYTHONDONTWRITEBYTECODE`` set, every start would compile the package's sources again."""
    env = {key: value for key, value in (env or os.environ).items() if key != "PYTHONDONTWRITEBYTECODE"}
    for command in commands.values():
        run_child(command, env)
    runs = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(run_child(command, env))
    return {name: {"wall": round(statistics.median(r[0] for r in rows), 3),
                   "cpu": round(statistics.median(r[1] for r in rows), 3)} for name, rows in runs.items()}


def bench_import(repeat: int) -> dict:
    figures = paired({"bare": [PYTHON, "-c", "pass"], "import": [PYTHON, "-c", "import sparkbam_py"]}, repeat)
    figures["import_cpu_s"] = round(figures["import"]["cpu"] - figures["bare"]["cpu"], 3)
    return figures


def tiny_bam(folder: str) -> str:
    import pysam

    path = os.path.join(folder, "tiny.bam")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 10000}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for k in range(6):
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_id, read.reference_start, read.cigarstring = f"r{k}", 0, 100 * k, "10M"
            read.query_sequence, read.mapping_quality = "ACGTACGTAC", 30
            read.query_qualities = pysam.qualitystring_to_array("IIIIIIIIII")
            out.write(read)
    return path


def bench_index(repeat: int, folder: str) -> dict:
    bam = tiny_bam(folder)
    return paired({"sparkbam_index_records": [SPARKBAM, "index-records", bam, os.path.join(folder, "tiny.records")],
                   "samtools_view_c": ["samtools", "view", "-c", bam]}, repeat)


def bench_read_table(bam: str, repeat: int, baseline: Optional[str] = None) -> dict:
    """With ``baseline`` (the source tree of another version of the package, e.g. a
    ``git archive`` of an earlier commit), its ``read_table`` runs in the same rounds too."""
    jobs = [("read_table", READ_TABLE), ("oxbow_held", OXBOW_HELD),
            ("iter_batches", ITER_BATCHES), ("oxbow_streamed", OXBOW_STREAM)]
    commands = {name: PIN + [PYTHON, "-c", code, bam] for name, code in jobs}
    if baseline is not None:
        # env(1) execs the interpreter: the child measured is still the interpreter itself.  -P:
        # with -c, the working directory (a checkout of this version) would precede PYTHONPATH.
        commands["read_table_baseline"] = (["env", f"PYTHONPATH={baseline}"] + PIN
                                           + [PYTHON, "-P", "-c", READ_TABLE, bam])
    figures = paired(commands, repeat)
    figures["held_ratio_oxbow_over_ours"] = round(figures["oxbow_held"]["cpu"] / figures["read_table"]["cpu"], 3)
    figures["streamed_ratio_oxbow_over_ours"] = round(figures["oxbow_streamed"]["cpu"] / figures["iter_batches"]["cpu"], 3)
    if baseline is not None:
        held = figures["oxbow_held"]["cpu"]
        figures["held_ratio_oxbow_over_baseline"] = round(held / figures["read_table_baseline"]["cpu"], 3)
    return figures


def prefix_bam(bam: str, megabytes: int, folder: str) -> str:
    """The BAM's first ~``megabytes`` MB of records (the header kept), written by samtools."""
    out = os.path.join(folder, f"prefix{megabytes}.bam")
    records = int(megabytes * (1 << 20) / (os.path.getsize(bam) / max(1, _record_count(bam))))
    subprocess.run(f"samtools view -h '{bam}' | head -n {records + 1000} | samtools view -b -o '{out}' -",
                   shell=True, check=True)
    return out


def _record_count(bam: str) -> int:
    """Mapped plus unmapped records, from the index (``samtools idxstats``)."""
    stats = subprocess.run(["samtools", "idxstats", bam], capture_output=True, text=True, check=True).stdout
    return sum(int(fields[2]) + int(fields[3]) for fields in (line.split("\t") for line in stats.splitlines()))


def bench_threshold(bam: str, repeat: int, folder: str) -> dict:
    rows = {}
    for megabytes in PREFIX_MB:
        prefix = prefix_bam(bam, megabytes, folder)
        row = {"bytes": os.path.getsize(prefix)}
        for job, code in (("decode", READ_TABLE), ("count", COUNT)):
            for kernels in ("python", "numba"):
                env = dict(os.environ, SPARKBAM_KERNELS=kernels)
                row[f"{job}_{kernels}"] = paired({"x": PIN + [PYTHON, "-c", code, prefix]}, repeat, env)["x"]["cpu"]
        rows[f"{megabytes}MB"] = row
        os.unlink(prefix)
        print(megabytes, row, flush=True)
    return rows


def bench_count(bam: str, repeat: int) -> dict:
    os.environ.setdefault("PYSPARK_PYTHON", PYTHON)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import sparkbam_py as sb

    spark = sb.get_spark("bench-startup", "local[2]")
    sb.count_reads(spark, bam)  # workers started, kernels loaded: the session is warm
    ours, samtools = [], []
    for _ in range(repeat):
        _into_page_cache(bam)  # neither tool pays for a file another job pushed out of memory
        started = time.perf_counter()
        count = sb.count_reads(spark, bam)
        ours.append(time.perf_counter() - started)
        samtools.append(run_child(["samtools", "view", "-c", "-@2", bam])[0])
    spark.stop()
    result = {"records": count, "count_reads_wall": round(statistics.median(ours), 3),
              "samtools_view_c_2_wall": round(statistics.median(samtools), 3)}
    result["ratio_ours_over_samtools"] = round(result["count_reads_wall"] / result["samtools_view_c_2_wall"], 3)
    return result


def _into_page_cache(path: str) -> None:
    with open(path, "rb") as handle:
        while handle.read(8 << 20):
            pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--jobs", default="import,index,read_table,threshold,count")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=None)
    parser.add_argument("--baseline", default=None,
                        help="read_table job: also time read_table from this source tree (another version)")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        for job in args.jobs.split(","):
            before = load()
            if job == "import":
                figures = bench_import(args.repeat)
            elif job == "index":
                figures = bench_index(args.repeat, folder)
            elif job == "read_table":
                figures = bench_read_table(args.bam, args.repeat, args.baseline)
            elif job == "threshold":
                figures = bench_threshold(args.bam, max(1, args.repeat // 2), folder)
            elif job == "count":
                figures = bench_count(args.bam, args.repeat)
            else:
                raise SystemExit(f"unknown job {job}")
            results[job] = dict(figures, load_before=before, load_after=load())
            print(job, json.dumps(results[job]), flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
