"""Interval loading: bytes read, time beside pysam, and the .bai.json on a high-latency source.

1. ``local``: N random W-bp regions (seeded) on a BAM with a ``.bai``: plan + read every
   partition in this process, pinned to one core, through counting channels: BAM bytes read
   (header, records) and index bytes, as a share of the file.  Beside it, pysam ``fetch``
   over the same regions (union, each read once) in the same run.
   The read sets must agree (query_name, flag, reference_start), or the bench fails.
   Times are medians of ``--repeats`` runs.
2. ``http``: the same query on a loopback HTTP server with ``--delay`` per request, with
   and without a ``.bai.json``: requests and bytes for the index, planning time, and the
   whole query; and planning time on the local file (index parse cost without latency).  The BAM is hard-linked (copied if that fails) into a temporary directory
   beside a copy of its ``.bai``; nothing is written next to the input.
3. ``http_many_refs`` (unless ``--no-synthetic``): the same comparison on a generated BAM
   with a GRCh38-sized header (24 chromosomes, sparse reads), whose ``.bai`` is MB-sized as
   a deep genome's is; the query touches two chromosomes.

Usage: python bench/bench_intervals.py [--bam $SPARKBAM_BENCH_DATA/sr.sorted.bam] [--regions 10]
       [--width 10000] [--seed 6] [--delay 0.02] [--repeats 5] [--out bench/out/intervals.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import pysam

from sparkbam_py.bam.file import open_bam
from sparkbam_py.channel import open_channel
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.index.bai_json import write_bai_json
from sparkbam_py.intervals import describe_plan, open_index, plan_with_index, read_interval_partition
from bench_data import SHORT_READS

KEY_COLUMNS = ["query_name", "flag", "reference_start"]
# GRCh38 primary chromosome lengths (chr1..chr22, chrX, chrY).
GRCH38 = [248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973, 145138636, 138394717,
          133797422, 135086622, 133275309, 114364328, 107043718, 101991189, 90338345, 83257441, 80373285,
          58617616, 64444167, 46709983, 50818468, 156040895, 57227415]


def random_regions(bam: str, count: int, width: int, seed: int):
    with pysam.AlignmentFile(bam) as handle:
        names, lengths = handle.references, handle.lengths
    rng = random.Random(seed)
    weights = [max(0, length - width) for length in lengths]
    regions = []
    for _ in range(count):
        ref = rng.choices(range(len(names)), weights)[0]
        beg = rng.randrange(lengths[ref] - width)
        regions.append((names[ref], beg, beg + width))  # 0-based half-open
    return regions, [f"{name}:{beg + 1}-{end}" for name, beg, end in regions]


def run_query(path: str, texts, columns, use_bai_json=True, channel_options=None):
    """Plan and read everything in this process; counters of every channel involved."""
    channel_options = channel_options or {}
    started = time.perf_counter()
    with open_bam(path, **channel_options) as bam, open_index(path, use_bai_json=use_bai_json) as index:
        partitions = plan_with_index(path, bam.size, bam.header, index, texts)
        planned = time.perf_counter()
        header_bytes, size = bam.channel.stats.bytes_fetched, bam.size
        index_cost = index.fetched()
    keys, read_bytes, read_requests = [], 0, 0
    for partition in partitions:
        with open_channel(path, **channel_options) as channel:
            for batch in read_interval_partition(partition, columns, channel=channel):
                if columns == KEY_COLUMNS:
                    keys.extend(zip(*(batch.column(c).to_pylist() for c in KEY_COLUMNS)))
                else:
                    keys.extend([None] * batch.num_rows)
            read_bytes += channel.stats.bytes_fetched
            read_requests += channel.stats.requests
    return {
        "seconds": time.perf_counter() - started, "plan_seconds": planned - started, "reads": len(keys),
        "file_bytes": size, "header_bytes": header_bytes, "index": index_cost, "record_bytes": read_bytes,
        "record_requests": read_requests, "plan": describe_plan(partitions), "keys": keys,
    }


def pysam_fetch(path: str, regions):
    started = time.perf_counter()
    seen = set()
    with pysam.AlignmentFile(path) as handle:
        for name, beg, end in regions:
            for read in handle.fetch(name, beg, end):
                seen.add((read.query_name, read.flag, read.reference_start))
    return time.perf_counter() - started, seen


def median_of(repeats: int, run):
    """The run with the median time (the machine is shared: medians, as bench/RESULTS.md)."""
    results = sorted((run() for _ in range(repeats)), key=lambda r: r[0] if isinstance(r, tuple) else r["seconds"])
    return results[len(results) // 2]


def local_section(bam: str, regions, texts, repeats: int) -> dict:
    keyed = median_of(repeats, lambda: run_query(bam, texts, KEY_COLUMNS))
    full = median_of(repeats, lambda: run_query(bam, texts, None))
    pysam_seconds, pysam_keys = median_of(repeats, lambda: pysam_fetch(bam, regions))
    ours = sorted(keyed.pop("keys"))
    full.pop("keys")
    if ours != sorted(pysam_keys) or len(ours) != len(set(ours)):
        raise SystemExit(f"reads differ from pysam fetch: ours {len(ours)}, pysam {len(pysam_keys)}")
    bam_bytes = keyed["header_bytes"] + keyed["record_bytes"]
    return {
        "regions": texts, "reads": len(ours), "file_bytes": keyed["file_bytes"],
        "bam_bytes_read": bam_bytes, "index_bytes": keyed["index"]["bytes_fetched"],
        "share_of_file": (bam_bytes + keyed["index"]["bytes_fetched"]) / keyed["file_bytes"],
        "plan": keyed["plan"],
        "seconds": {"ours_3_columns": keyed["seconds"], "ours_all_columns": full["seconds"],
                    "ours_plan": keyed["plan_seconds"], "pysam_fetch": pysam_seconds},
    }


def linked_copy(bam: Path, directory: Path) -> Path:
    """``bam`` and a copy of its ``.bai`` in ``directory`` (the BAM hard-linked if possible)."""
    target = directory / bam.name
    try:
        os.link(bam, target)
    except OSError:
        shutil.copyfile(bam, target)
    shutil.copyfile(str(bam) + ".bai", str(target) + ".bai")
    return target


def http_section(bam: Path, texts, delay: float) -> dict:
    """Index cost over HTTP with and without a .bai.json, then the whole query."""
    report = {"delay": delay}
    with tempfile.TemporaryDirectory() as tmp:  # same filesystem here: the link is free
        served = linked_copy(bam, Path(tmp))
        with RangeHTTPServer(tmp, delay=delay) as server:
            url = server.url_for(served.name)
            for label, use_json in (("without_bai_json", False), ("with_bai_json", True)):
                if use_json:
                    write_bai_json(str(served) + ".bai")
                local_plan = run_query(str(served), texts, KEY_COLUMNS, use_bai_json=use_json)["plan_seconds"]
                before = server.request_count
                result = run_query(url, texts, KEY_COLUMNS, use_bai_json=use_json)
                result.pop("keys")
                report[label] = {
                    "local_plan_seconds": local_plan,
                    "index_requests": result["index"]["requests"], "index_bytes": result["index"]["bytes_fetched"],
                    "plan_seconds": result["plan_seconds"], "query_seconds": result["seconds"],
                    "server_requests": server.request_count - before, "reads": result["reads"],
                    "record_bytes": result["record_bytes"], "record_requests": result["record_requests"],
                }
        report["bai_bytes"] = (Path(str(bam) + ".bai")).stat().st_size
    return report


def synthetic_many_refs(directory: Path, reads: int, seed: int) -> Path:
    """A sorted, indexed BAM with a GRCh38-sized header and reads every ~20 kb."""
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"},
         "SQ": [{"SN": f"chr{i + 1 if i < 22 else 'XY'[i - 22]}", "LN": n} for i, n in enumerate(GRCH38)]})
    rng = random.Random(seed)
    total = sum(GRCH38)
    unsorted, bam = directory / "many.unsorted.bam", directory / "many_refs.bam"
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(reads):
            where = rng.randrange(total - 200 * len(GRCH38))
            ref = 0
            while where >= GRCH38[ref] - 200:
                where -= GRCH38[ref] - 200
                ref += 1
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start = f"r{i}", ref, where
            read.mapping_quality, read.cigarstring = 60, "100M"
            read.query_sequence = "ACGT" * 25
            out.write(read)
    pysam.sort("-o", str(bam), str(unsorted))
    unsorted.unlink()
    pysam.index(str(bam))
    return bam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bam", default=str(SHORT_READS))
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--width", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per HTTP request (default 0.02)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--synthetic-reads", type=int, default=150_000)
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--out", default="bench/out/intervals.json")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, for both sides
    regions, texts = random_regions(args.bam, args.regions, args.width, args.seed)
    report = {"bam": args.bam, "local": local_section(args.bam, regions, texts, args.repeats)}
    print("local", json.dumps(report["local"]))
    report["http"] = http_section(Path(args.bam), texts, args.delay)
    print("http", json.dumps(report["http"]))
    if not args.no_synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            many = synthetic_many_refs(Path(tmp), args.synthetic_reads, args.seed)
            report["http_many_refs"] = http_section(many, ["chr21:10,000,001-10,100,000", "chrX:1-1,000,000"],
                                                    args.delay)
        print("http_many_refs", json.dumps(report["http_many_refs"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
