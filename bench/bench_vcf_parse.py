"""VCF parsing speed per core: the vectorised parser vs pysam's VariantFile, same lines, same run.

    taskset -c 0 python bench/bench_vcf_parse.py BIG.vcf.gz --lines 20000 --repeats 3

Both sides parse the same first ``--lines`` data lines from memory-resident text: ours as
Arrow batches of ``--batch`` lines (``VCF.parse``, every column including all genotype
fields), pysam from an uncompressed copy (so neither pays for inflating), touching every
field (CHROM..INFO, every FORMAT value of every sample, and phasing).  Arrow's thread pool
is pinned to one thread so the figure is per core.  Reports medians over ``--repeats``.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
import sys
import tempfile
import time

import pyarrow as pa
import pysam

from sparkbam_py.text.format import LineSource
from sparkbam_py.text.vcf import VCF


def read_text(path: str, limit: int):
    """(header lines, first ``limit`` data lines) of a (b)gzipped VCF."""
    header, data = [], []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("#"):
                header.append(line)
            elif len(data) < limit:
                data.append(line)
            else:
                break
    return header, data


def time_ours(header_lines, data, batch: int) -> float:
    header = VCF.parse_header(header_lines, {})
    batches = [pa.array(data[i:i + batch], pa.string()) for i in range(0, len(data), batch)]
    started = time.perf_counter()
    rows = 0
    for lines in batches:
        rows += VCF.parse(lines, header, {}, LineSource()).num_rows
    elapsed = time.perf_counter() - started
    assert rows == len(data)
    return elapsed


def time_pysam(plain_path: str, count: int) -> float:
    started = time.perf_counter()
    seen = 0
    with pysam.VariantFile(plain_path) as vcf:
        for record in itertools.islice(vcf, count):
            seen += 1
            (record.chrom, record.pos, record.id, record.ref, record.alts, record.qual,
             list(record.filter.keys()), dict(record.info))
            for sample in record.samples.values():
                sample.phased
                for key in sample.keys():
                    sample[key]
    elapsed = time.perf_counter() - started
    assert seen == count
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vcf")
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    header, data = read_text(args.vcf, args.lines)
    samples = len(VCF.parse_header(header, {}).samples)
    with tempfile.TemporaryDirectory() as scratch:
        plain = os.path.join(scratch, "plain.vcf")
        with open(plain, "w") as out:
            out.write("\n".join(header + data) + "\n")
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(time_ours(header, data, args.batch))
            theirs.append(time_pysam(plain, len(data)))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    result = {
        "vcf": os.path.basename(args.vcf), "lines": len(data), "samples": samples,
        "cpus": sorted(os.sched_getaffinity(0)), "batch": args.batch, "repeats": args.repeats,
        "ours_s": round(ours_s, 3), "pysam_s": round(theirs_s, 3),
        "ours_lines_per_s": round(len(data) / ours_s), "pysam_lines_per_s": round(len(data) / theirs_s),
        "ours_genotypes_per_s": round(len(data) * samples / ours_s),
        "speedup_vs_pysam": round(theirs_s / ours_s, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
