"""Bgzipped text throughput per core, beside the reference tools, in one run.

    taskset -c 0 python bench/bench_text.py VCF.gz [--repeat 3] [--vcf-lines 8192] [--out bench/out/text.json]
    python bench/bench_text.py VCF.gz --job [--workers 2]
    python bench/bench_text.py VCF.gz --parquet [--repeat 3] [--scratch DIR]

Per core (the script pins itself to CPU 0; run it under ``taskset -c 0`` so the child
``bgzip`` is pinned too): ``bgzip -dc | wc -l``; our line splitting (lines counted, nothing
converted); the ``bgzf_text`` executor path (lines to Arrow, header lines dropped); pysam's
``TabixFile`` iteration over every contig; and, on the first ``--vcf-lines`` data lines,
our ``vcf`` parser against pysam's ``VariantFile`` (every field touched).  Medians of
``--repeat`` runs, and ratios.  ``--job``: the seed recipe (``multiprocessing`` over contig
names, ``TabixFile(..., multiple_iterators=True)`` per call) against ``map_regions`` on the
same job, with ``--workers`` processes each.  ``--parquet``: VCF to Parquet on ``local[2]``,
``convert`` (executors parse and write) against polars-bio's ``read_vcf().write_parquet()``
with 2 threads, alternating, wall seconds.  The VCF is made by ``bench/make_vcf.py``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pysam

from sparkbam_py.text.format import LineSource
from sparkbam_py.formats import format_named
from sparkbam_py.spark.map_regions import map_regions
from sparkbam_py.text.plan import count_task_lines, plan_text_file
from sparkbam_py.text.read import iter_unit_lines, plan_units, read_file_header

SPLIT = "32m"


def timed(fn, repeat):
    """(median wall seconds, median CPU seconds, last result) of ``repeat`` runs; CPU is this
    process's and its reaped children's (``bgzip`` and ``wc``)."""
    times, cpus, result = [], [], None
    for _ in range(repeat):
        start, before = time.perf_counter(), os.times()
        result = fn()
        after = os.times()
        times.append(time.perf_counter() - start)
        cpus.append(sum(after[k] - before[k] for k in range(4)))
    return statistics.median(times), statistics.median(cpus), result


def bgzip_wc(path):
    out = subprocess.run(f"bgzip -dc '{path}' | wc -l", shell=True, check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0])


def ours_count(path):
    return sum(count_task_lines(task) for task in plan_text_file(path, SPLIT))


def ours_bgzf_text(path):
    header = read_file_header(path)
    return sum(len(lines) for unit in plan_units([path], SPLIT) for _, lines in iter_unit_lines(unit, header))


def pysam_tabix(path):
    with pysam.TabixFile(path) as tabix:
        return sum(1 for contig in tabix.contigs for _ in tabix.fetch(contig))


def first_data_lines(path, count):
    header = read_file_header(path)
    lines = []
    for unit in plan_units([path], SPLIT):
        for _, batch in iter_unit_lines(unit, header):
            lines.append(batch)
            if sum(len(b) for b in lines) >= count:
                return header, pa.concat_arrays(lines)[:count]
    return header, pa.concat_arrays(lines)


def ours_vcf(path, header, lines):
    vcf = format_named("vcf").parser
    parsed = vcf.parse_header(list(header.lines), {})
    return vcf.parse(lines, parsed, {}, LineSource(path)).num_rows


def pysam_variantfile(path, count):
    touched = 0
    with pysam.VariantFile(path) as variants:
        for k, record in enumerate(variants):
            if k == count:
                break
            touched += record.pos + len(record.alleles) + len(dict(record.info))
            for sample in record.samples.values():
                touched += len(dict(sample))
    return count


def per_core(args):
    os.sched_setaffinity(0, {0})
    path, figures = args.vcf, {}
    for name, fn in (("bgzip_dc_wc_l", bgzip_wc), ("sparkbam_line_split", ours_count),
                     ("sparkbam_bgzf_text", ours_bgzf_text), ("pysam_tabixfile", pysam_tabix)):
        seconds, cpu, lines = timed(lambda: fn(path), args.repeat)
        figures[name] = {"seconds": round(seconds, 3), "cpu": round(cpu, 3), "lines": lines,
                         "lines_per_s": round(lines / seconds)}
        print(name, figures[name], flush=True)
    header, lines = first_data_lines(path, args.vcf_lines)
    seconds, _, rows = timed(lambda: ours_vcf(path, header, lines), args.repeat)
    figures["sparkbam_vcf_parse"] = {"seconds": round(seconds, 3), "lines": rows, "lines_per_s": round(rows / seconds)}
    seconds, _, rows = timed(lambda: pysam_variantfile(path, len(lines)), args.repeat)
    figures["pysam_variantfile"] = {"seconds": round(seconds, 3), "lines": rows, "lines_per_s": round(rows / seconds)}
    for name in ("sparkbam_vcf_parse", "pysam_variantfile"):
        print(name, figures[name], flush=True)
    base = figures["bgzip_dc_wc_l"]["lines_per_s"]
    ratios = {f"{name}_vs_bgzip_wc": round(figures[name]["lines_per_s"] / base, 3)
              for name in ("sparkbam_line_split", "sparkbam_bgzf_text", "pysam_tabixfile")}
    for name in ("sparkbam_line_split", "sparkbam_bgzf_text"):
        ratios[f"{name}_cpu_bgzip_wc_over_ours"] = round(figures["bgzip_dc_wc_l"]["cpu"] / figures[name]["cpu"], 3)
    ratios["sparkbam_vcf_vs_pysam_variantfile"] = round(
        figures["sparkbam_vcf_parse"]["lines_per_s"] / figures["pysam_variantfile"]["lines_per_s"], 3)
    return {"per_core": figures, "ratios": ratios}


# -- the job: per-contig counts and REF lengths -------------------------------------------------


def recipe_contig(args):
    """The seed recipe: one TabixFile per call, multiple_iterators=True, one contig each."""
    path, contig = args
    tabix = pysam.TabixFile(path)
    count = ref_bases = 0
    for row in tabix.fetch(contig, parser=pysam.asTuple(), multiple_iterators=True):
        count += 1
        ref_bases += len(row[3])
    return count, ref_bases


def window_job(window, rows):
    count = ref_bases = 0
    for row in rows:
        count += 1
        ref_bases += len(row[3])
    return count, ref_bases


def job(args):
    with pysam.TabixFile(args.vcf) as tabix:
        contigs = list(tabix.contigs)
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        recipe = pool.map(recipe_contig, [(args.vcf, c) for c in contigs])
    recipe_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours = map_regions(args.vcf, window_job, window=args.window, workers=args.workers)
    ours_seconds = time.perf_counter() - start
    total = lambda parts: [sum(p[0] for p in parts), sum(p[1] for p in parts)]  # noqa: E731
    result = {"workers": args.workers, "contigs": len(contigs), "windows": len(ours),
              "recipe_seconds": round(recipe_seconds, 3), "map_regions_seconds": round(ours_seconds, 3),
              "recipe_totals": total(recipe), "map_regions_totals": total(ours),
              "speedup": round(recipe_seconds / ours_seconds, 3)}
    print(result, flush=True)
    return {"job": result}


POLARS_BIO_VCF = """
import sys, time, polars_bio as pb
pb.set_option(pb.POLARS_BIO_MAX_THREADS, "2")
pb.read_vcf(sys.argv[1]).write_parquet(sys.argv[2])
"""


def parquet(args):
    """VCF to Parquet on the 2 cores: ``convert`` on a warm ``local[2]`` session against
    polars-bio ``read_vcf(VCF).write_parquet(OUT)`` with 2 threads, alternating, wall seconds."""
    import shutil
    import tempfile

    from sparkbam_py.spark.convert import convert
    from sparkbam_py.spark.session import get_spark

    spark = get_spark("bench-text", master="local[2]")
    env = dict(os.environ, POLARS_MAX_THREADS="2")
    scratch = tempfile.mkdtemp(prefix="bench-text-", dir=args.scratch)
    walls = {"ours_convert": [], "polars_bio": []}
    try:
        convert(spark, args.vcf, os.path.join(scratch, "warm"), mode="overwrite")  # workers started
        for round_ in range(args.repeat):
            start = time.perf_counter()
            result = convert(spark, args.vcf, os.path.join(scratch, f"ours{round_}"))
            walls["ours_convert"].append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", POLARS_BIO_VCF, args.vcf, os.path.join(scratch, f"pb{round_}.parquet")],
                           check=True, env=env, capture_output=True)
            walls["polars_bio"].append(time.perf_counter() - start)
            print({name: round(values[-1], 2) for name, values in walls.items()}, flush=True)
        sizes = {"ours_bytes": result.bytes, "polars_bio_bytes": os.path.getsize(os.path.join(scratch, "pb0.parquet"))}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        spark.stop()
    medians = {name: round(statistics.median(values), 3) for name, values in walls.items()}
    return {"parquet": dict(medians, rows=result.rows, **sizes,
                            ratio_ours_over_polars_bio=round(medians["ours_convert"] / medians["polars_bio"], 3))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vcf")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vcf-lines", type=int, default=8192)
    parser.add_argument("--job", action="store_true")
    parser.add_argument("--parquet", action="store_true", help="VCF to Parquet on local[2] against polars-bio")
    parser.add_argument("--scratch", default=None, help="folder for the Parquet outputs (removed after)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", default="16m")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"vcf": os.path.basename(args.vcf), "bytes": os.path.getsize(args.vcf)}
    result.update(job(args) if args.job else parquet(args) if args.parquet else per_core(args))
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
