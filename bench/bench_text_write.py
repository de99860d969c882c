"""Writing a bgzipped, tabix-indexed VCF on local Spark, beside ``bgzip -@N`` + ``tabix``.

Usage::

    python bench/bench_text_write.py BIG.vcf.gz [--cores 2] [--repeats 3] [--work DIR] [--baseline SRC] [--json]

``BIG.vcf.gz`` is the bench VCF (``python bench/make_vcf.py big.vcf.gz --size-mb 200
--samples 100``: 208.8 MB, 185,043 lines).  Prepared once, untimed, in ``--work``: its text
(``big.vcf``, what the peer compresses).  Each repeat runs, in turn (medians; the machine
is shared):

* ``bgzip+tabix``: the text compressed with N threads (``bgzip -@N``), then ``tabix -p vcf``;
* one Spark process on ``local[N]`` (its whole wall time is ``process``: Python and JVM
  start-up included) that times
  ``read+write``: ``write_vcf(spark.read.format("vcf").load(BIG), OUT, header_from=BIG)``
  (the VCF parsed into Glow's columns, then formatted back, deflated, indexed, committed),
  then caches the same rows in memory (untimed) and times ``write``: ``write_vcf`` of the
  cached rows alone (formatting, deflate, index pieces, commit: what writing a job's
  result costs);
  ``handoff``: the same cached rows handed to Python in the writer's Arrow batches and
  dropped there, unformatted (a floor under ``write``: what Spark's hand-off of the rows
  costs before anything is written).  ``deflate cpu``: the text deflated into BGZF blocks at
  bgzip's level in this process, one core, nothing else (what bgzip and the write both must
  do).  ``floor``: the hand-off's CPU plus that deflate's, spread over N cores: no write of
  these rows through Spark's hand-off can take less wall time, before any formatting.

``--baseline SRC`` (a checkout's folder holding ``sparkbam_py/``, e.g. ``git worktree add SRC
main``) also runs the Spark process with that code in each repeat, after this code's in odd
repeats and before it in even ones (figures ``baseline ...``): before and after, paired in
the same run.

Each figure also comes as CPU seconds (``... cpu``: the peer's processes; the Spark
process with its JVM and Python workers, from ``/proc``), compared with the peer's: on a
shared machine they vary less than wall time, and they say where parity is lost.

``--task-only`` times instead, in this process and without Spark, what one write task runs
on the whole file: its rows as the loader gives them (Arrow batches of 10,000 rows, Spark's
``maxRecordsPerBatch``; parsed untimed) formatted into lines (``format``), then deflated into
BGZF blocks with their tabix pieces (``part``); one core, beside the same ``bgzip+tabix``.

Rows are written in the order they were read (no ``sort``).  Outputs are checked: the same
record count as the input, ``tabix -l`` equal to tabix's.  The outputs are removed; the
prepared text stays in a ``--work`` given (a re-run skips preparing), a temporary one goes.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the checkout this bench belongs to
SPARK_CASE = """
import time, sparkbam_py
from sparkbam_py.spark.session import get_spark
spark = get_spark("bench-text-write", master="local[{cores}]", config={{"spark.ui.enabled": "false",
                  "spark.driver.memory": "6g"}})
sparkbam_py.register(spark)
spark.range({cores}).count()
variants = spark.read.format("vcf").load({source!r})
started, cpu = time.perf_counter(), tree_cpu()
sparkbam_py.write_vcf(variants, {read_out!r}, header_from={source!r}, overwrite=True)
print("read+write", time.perf_counter() - started, tree_cpu() - cpu)
cached = variants.cache()
cached.count()
started, cpu = time.perf_counter(), tree_cpu()
sparkbam_py.write_vcf(cached, {write_out!r}, header_from={source!r}, overwrite=True)
print("write", time.perf_counter() - started, tree_cpu() - cpu)
from sparkbam_py.spark.arrow_handoff import rows_only_batches
def discard(batches):
    import pyarrow as pa
    yield pa.RecordBatch.from_pydict({{"rows": [sum(batch.num_rows for batch in batches)]}})
with rows_only_batches(spark, len(cached.first()["genotypes"])):  # the writer's batch sizes
    started, cpu = time.perf_counter(), tree_cpu()
    cached.mapInArrow(discard, "rows long").collect()
    print("handoff", time.perf_counter() - started, tree_cpu() - cpu)
"""


# CPU seconds of this process and every process under it (the JVM, Python workers), from
# /proc: on a shared machine they vary less than wall time.  Linux only, as the bench is.
TREE_CPU = """
import os
def tree_cpu():
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mine, frontier = 0.0, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        mine += cpu.get(parent, 0.0)
        frontier += [pid for pid, ppid in parents.items() if ppid == parent]
    return mine
"""


def timed_shell(command: str) -> tuple:
    """Wall seconds and CPU seconds (user + system of the command's processes)."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)
    wall, after = time.perf_counter() - started, os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def spark_case(source: str, read_out: Path, write_out: Path, cores: int, code_from: str = "") -> dict:
    """The Spark process's figures; ``code_from``: a folder whose ``sparkbam_py`` to run (this
    checkout's by default)."""
    code = TREE_CPU + SPARK_CASE.format(cores=cores, source=source, read_out=str(read_out), write_out=str(write_out))
    # The code first on the path of the driver and of every Python worker it starts, and a
    # working folder without a checkout in it (Python puts the working folder first).
    code_from = Path(code_from or REPO).resolve()
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(filter(None, [str(code_from), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=read_out.parent)
    if done.returncode:
        raise RuntimeError(f"the Spark case failed:\n{done.stderr[-4000:]}")
    timings = {line.split()[0]: [float(value) for value in line.split()[1:]]
               for line in done.stdout.splitlines() if line.startswith(("read+write", "write", "handoff"))}
    figures = {name: values[0] for name, values in timings.items()}
    figures["process"] = time.perf_counter() - started
    figures.update({name + " cpu": values[1] for name, values in timings.items()})
    return figures


class _TimedLines:
    """A line writer whose formatting time is kept apart from the part writer's."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0

    def format(self, batch, samples=None):
        started = time.perf_counter()
        lines = self.inner.format(batch, samples)
        self.seconds += time.perf_counter() - started
        return lines


def task_case(text: Path, out: Path, batch_rows: int = 10_000) -> dict:
    """One task's formatting and part writing of every line of ``text``, timed apart."""
    import pyarrow as pa

    from sparkbam_py.text.format import LineSource
    from sparkbam_py.text.vcf import VCF
    from sparkbam_py.text.vcf_write import VcfLineWriter
    from sparkbam_py.text.vcf_write_header import vcf_write_header
    from sparkbam_py.write.job import check_backend
    from sparkbam_py.write.part import WriteSettings
    from sparkbam_py.write.text_part import TextPartWriter

    with open(text) as handle, open(out, "wb") as sink:
        header_lines, first = [], handle.readline()
        while first.startswith("#"):
            header_lines.append(first.rstrip("\n"))
            first = handle.readline()
        header = VCF.parse_header(header_lines, {})
        data = itertools.chain([first], handle)
        timed, writer, seconds = None, None, 0.0
        while True:
            texts = [line.rstrip("\n") for _, line in zip(range(batch_rows), data)]
            if not texts:
                break
            batch = VCF.parse(pa.array(texts), header, {}, LineSource())  # the loader's work: untimed
            if writer is None:
                timed = _TimedLines(VcfLineWriter(vcf_write_header(batch.schema, header_lines)))
                writer = TextPartWriter(sink, timed, WriteSettings(6, check_backend("")), True)
            started = time.perf_counter()
            writer.write_batch(batch)
            seconds += time.perf_counter() - started
        started = time.perf_counter()
        writer.finish_text(str(out), 0, 0, eof=True)
        seconds += time.perf_counter() - started
    return {"format": timed.seconds, "part": seconds - timed.seconds}


def deflate_only_cpu(text: Path) -> float:
    """CPU seconds to deflate ``text`` into BGZF blocks at bgzip's default level, one core."""
    from sparkbam_py.bgzf.writer import DEFAULT_BLOCK_DATA_SIZE, DEFAULT_LEVEL, compress_block, default_backend

    backend = default_backend()  # the writers' default: libdeflate where installed, as bgzip
    started = time.process_time()
    with open(text, "rb") as handle:
        while True:
            data = handle.read(DEFAULT_BLOCK_DATA_SIZE)
            if not data:
                break
            compress_block(data, DEFAULT_LEVEL, backend=backend)
    return time.process_time() - started


def check(out: Path, expected_lines: int, reference: Path) -> None:
    lines = int(subprocess.run(["bash", "-c", f"bgzip -dc {out} | grep -vc '^#'"], capture_output=True, text=True,
                               check=True).stdout)
    assert lines == expected_lines, f"{out}: {lines} records, expected {expected_lines}"
    listed = [subprocess.run(["tabix", "-l", str(path)], capture_output=True, text=True, check=True).stdout
              for path in (out, reference)]
    assert listed[0] == listed[1], f"{out}: tabix -l differs from tabix's index"


def run(source: str, work: Path, cores: int, repeats: int, task_only: bool = False, baseline: str = "") -> dict:
    text = work / "big.vcf"
    if not text.exists():
        subprocess.run(["bash", "-c", f"bgzip -dc -@{cores} {source} > {text}"], check=True)
    records = int(subprocess.run(["bash", "-c", f"grep -vc '^#' {text}"], capture_output=True, text=True,
                                 check=True).stdout)
    peer, read_out, write_out = work / "peer.vcf.gz", work / "read-write.vcf.gz", work / "write.vcf.gz"
    results = {"bgzip+tabix": [], "read+write": [], "write": [], "handoff": [], "process": [],
               "bgzip+tabix cpu": [], "read+write cpu": [], "write cpu": [], "handoff cpu": [], "deflate cpu": []}
    if task_only:
        results = {"bgzip+tabix": [], "format": [], "part": [], "format+part": [], "bgzip+tabix cpu": [],
                   "deflate cpu": []}
    load = [open("/proc/loadavg").read().split()[0]]
    sizes = {}
    for repeat in range(repeats):
        deflate_wall, deflate_cpu = timed_shell(f"bgzip -@{cores} -c {text} > {peer}")
        index_wall, index_cpu = timed_shell(f"tabix -f -p vcf {peer}")
        results["bgzip+tabix"].append(deflate_wall + index_wall)
        results["bgzip+tabix cpu"].append(deflate_cpu + index_cpu)
        results["deflate cpu"].append(deflate_only_cpu(text))
        if task_only:
            task = task_case(text, write_out)
            task["format+part"] = task["format"] + task["part"]
            for name, value in task.items():
                results[name].append(value)
            assert int(subprocess.run(["bash", "-c", f"bgzip -dc {write_out} | wc -l"], capture_output=True,
                                      text=True, check=True).stdout) == records, "the task lost lines"
            sizes.update(_sizes("", peer, write_out))
            continue
        cases = [("", "")] + ([("baseline ", baseline)] if baseline else [])
        for prefix, code_from in cases if repeat % 2 == 0 else cases[::-1]:
            for name, value in spark_case(source, read_out, write_out, cores, code_from).items():
                results.setdefault(prefix + name, []).append(value)
            for out in (read_out, write_out):
                check(out, records, peer)
            sizes.update(_sizes("", peer))
            sizes.update(_sizes(prefix, write_out))
    load.append(open("/proc/loadavg").read().split()[0])
    medians = {name: statistics.median(values) for name, values in results.items()}
    if "handoff cpu" in medians:
        # No write of these rows can beat this on N cores: Spark's hand-off, and the deflate
        # of their text at bgzip's level, with every core busy and nothing else done.
        medians["floor"] = (medians["handoff cpu"] + medians["deflate cpu"]) / cores
    return {"records": records, "text_bytes": text.stat().st_size, "cores": cores, "loadavg": load,
            "medians_s": medians, "runs_s": results, "output_bytes": sizes,
            "ratios_to_bgzip_tabix": {name: medians[name] / medians[_peer_of(name)] for name in medians}}


def _sizes(prefix: str, *outputs: Path) -> dict:
    """The bytes of each output and its index, named ``prefix`` + file name."""
    paths = [path for out in outputs for path in (out, Path(str(out) + ".tbi"))]
    return {prefix + path.name: path.stat().st_size for path in paths if path.exists()}


def _peer_of(name: str) -> str:
    """What a figure is compared with: CPU seconds with the peer's CPU seconds."""
    return "bgzip+tabix cpu" if name.endswith(" cpu") else "bgzip+tabix"


def _shown(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("vcf")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", default=None, help="where the text and outputs go (the text is kept for re-runs)")
    parser.add_argument("--task-only", action="store_true",
                        help="time one task's formatting and part writing without Spark (see above)")
    parser.add_argument("--baseline", default="", help="a folder holding another sparkbam_py to time in each repeat")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    temporary = args.work is None
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-text-write-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        summary = run(args.vcf, work, args.cores, args.repeats, args.task_only, args.baseline)
    finally:
        for name in ("peer.vcf.gz", "read-write.vcf.gz", "write.vcf.gz"):
            for suffix in ("", ".tbi", ".csi"):
                (work / (name + suffix)).unlink(missing_ok=True)
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    medians = summary["medians_s"]
    print(f"{summary['records']} records, {summary['text_bytes'] / 1e6:.0f} MB of text, local[{args.cores}], "
          f"load {summary['loadavg'][0]} -> {summary['loadavg'][1]}")
    for name, value in medians.items():
        print(f"{name:16s} median {value:7.2f} s  ({value / medians[_peer_of(name)]:.2f}x {_peer_of(name)})  "
              f"runs {_shown(summary['runs_s'].get(name, []))}")
    print("output bytes: " + ", ".join(f"{name} {value:,}" for name, value in summary["output_bytes"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
