"""CRAM: count and full decode through our splits, beside samtools on the same CRAM, same run.

    .venv/bin/python bench/bench_cram.py BAM REFERENCE [--work DIR] [--split-size 64m] [--repeat 3] [--json]

The BAM is converted once to ``DIR/<name>.cram`` with the reference (``samtools view -C``;
kept for later runs).  Then, pinned to one core (``sched_setaffinity``), medians of
``--repeat`` runs of:

* ours, count: every split's first container found by the executor-side search (no .crai),
  containers walked, boundaries verified, record counts summed (the task code Spark runs,
  here one task after another in this process);
* ours, count with the ``.crai`` (exact splits, written by ``samtools index``);
* ours, full decode: every split decoded by htslib into the Arrow columns (``--decode-repeat``):
  the compiled loop (htslib's records through the BAM decoder) and the SAM-text path
  (``SPARKBAM_KERNELS=python``); and a narrow decode (five fixed columns);
* samtools ``view -c -@0`` (same core) and ``view -c -@2`` (unpinned), and samtools
  ``view -@0 -o /dev/null`` (full decode to SAM text, one core) as the decode reference.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sparkbam_py.bam.schema import DEFAULT_COLUMNS
from sparkbam_py.cram.plan import CramReadOptions, plan_cram_file
from sparkbam_py.cram.reader import CramSplitReader

ONE_CORE = {0}
# A narrow selection: htslib then skips sequence, qualities and tags (CRAM_OPT_REQUIRED_FIELDS).
NARROW = ["query_name", "flag", "reference_name", "reference_start", "mapping_quality"]


def convert(bam: Path, reference: Path, work: Path) -> Path:
    cram = work / (bam.stem + ".cram")
    if not cram.exists():
        partial = cram.with_suffix(".partial")
        subprocess.run(["samtools", "view", "-C", "-@2", "-T", str(reference), "-o", str(partial), str(bam)], check=True)
        partial.rename(cram)
    return cram


def timed(run):
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def ours_count(cram: Path, split_size, use_index: bool):
    tasks = plan_cram_file(str(cram), CramReadOptions(split_size=split_size, use_index=use_index))[1]
    total = 0
    for task in tasks:
        with CramSplitReader(task) as reader:
            total += reader.count()
    return total


def ours_decode(cram: Path, reference: Path, split_size, columns=DEFAULT_COLUMNS):
    options = CramReadOptions(split_size=split_size, reference=str(reference), use_index=False)
    total = 0
    for task in plan_cram_file(str(cram), options)[1]:
        with CramSplitReader(task) as reader:
            total += sum(batch.num_rows for batch in reader.iter_batches(columns))
    return total


def samtools(arguments, reference: Path):
    """(stdout, wall seconds, child CPU seconds) of one samtools run."""
    before = os.times()
    wall = time.perf_counter()
    done = subprocess.run(["samtools"] + arguments + ["--reference", str(reference)], check=True,
                          capture_output=True, text=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return done.stdout.strip(), time.perf_counter() - wall, cpu


def median_of(runs):
    return {"wall": statistics.median(r[1] for r in runs), "cpu": statistics.median(r[2] for r in runs),
            "result": runs[-1][0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam", type=Path)
    parser.add_argument("reference", type=Path)
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    parser.add_argument("--split-size", default="64m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--decode-repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    cram = convert(args.bam, args.reference, args.work)
    crai = Path(str(cram) + ".crai")
    if crai.exists():
        crai.unlink()
    all_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, ONE_CORE)
    figures = {"count": median_of([timed(lambda: ours_count(cram, args.split_size, False)) for _ in range(args.repeat)]),
               "samtools_count_1": median_of([samtools(["view", "-c", "-@0", str(cram)], args.reference)
                                              for _ in range(args.repeat)])}
    subprocess.run(["samtools", "index", str(cram)], check=True)
    figures["count_crai"] = median_of([timed(lambda: ours_count(cram, args.split_size, True)) for _ in range(args.repeat)])
    crai.unlink()
    figures["decode"] = median_of([timed(lambda: ours_decode(cram, args.reference, args.split_size))
                                   for _ in range(args.decode_repeat)])
    os.environ["SPARKBAM_KERNELS"] = "python"  # the SAM-text path, one line per record through pysam
    figures["decode_sam_text_path"] = median_of([timed(lambda: ours_decode(cram, args.reference, args.split_size))
                                                 for _ in range(args.decode_repeat)])
    del os.environ["SPARKBAM_KERNELS"]
    figures["decode_narrow"] = median_of([timed(lambda: ours_decode(cram, args.reference, args.split_size, NARROW))
                                          for _ in range(args.decode_repeat)])
    figures["samtools_decode_1"] = median_of([samtools(["view", "-@0", "-o", "/dev/null", str(cram)], args.reference)
                                              for _ in range(args.decode_repeat)])
    os.sched_setaffinity(0, all_cores)
    figures["samtools_count_2"] = median_of([samtools(["view", "-c", "-@2", str(cram)], args.reference)
                                             for _ in range(args.repeat)])
    records = int(figures["samtools_count_2"]["result"])
    summary = {
        "cram": str(cram), "cram_bytes": cram.stat().st_size, "records": records, "split_size": args.split_size,
        "counts_match": figures["count"]["result"] == figures["count_crai"]["result"] == records
                        == figures["decode"]["result"] == figures["decode_narrow"]["result"]
                        == figures["decode_sam_text_path"]["result"],
        "records_per_second": {name: round(records / value["wall"]) for name, value in figures.items()},
        "seconds": {name: {"wall": round(v["wall"], 3), "cpu": round(v["cpu"], 3)} for name, v in figures.items()},
        "ratios": {"count_vs_samtools_c_@0": round(figures["samtools_count_1"]["wall"] / figures["count"]["wall"], 2),
                   "count_vs_samtools_c_@2": round(figures["samtools_count_2"]["wall"] / figures["count"]["wall"], 2),
                   "decode_vs_samtools_view_@0": round(figures["samtools_decode_1"]["wall"] / figures["decode"]["wall"], 3),
                   "decode_cpu_vs_samtools_view_@0": round(figures["samtools_decode_1"]["cpu"] / figures["decode"]["cpu"], 3),
                   "sam_text_path_cpu_vs_samtools_view_@0": round(
                       figures["samtools_decode_1"]["cpu"] / figures["decode_sam_text_path"]["cpu"], 3)},
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0 if summary["counts_match"] else 1


if __name__ == "__main__":
    sys.exit(main())
