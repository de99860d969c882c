"""Split computation against a high-latency source: HTTP on loopback, a fixed delay per request.

Remote stores answer every read with a round trip, and many adapters drop their buffer on
each seek; a record-start search reads around the same spot again and again.  This serves a
BAM through ``RangeHTTPServer(delay=...)`` and counts the requests that reach it, with the
CachingChannel's page cache on (64 MiB of 64 KiB pages) and off (``cache_bytes=0``), for:

- ours: one split-start search per byte range, each on a fresh channel as a Spark task
  opens it (the header is read once on the driver and shipped).  Reported as the sum over
  splits and per split: on a cluster the splits run in parallel, one per executor core.
- the baseline: hadoop-bam's split computation, sequential on the driver.
- with ``--spark``: our splits computed by Spark tasks (``local[2]``), wall time.

Usage: python bench/bench_latency.py [--bam $SPARKBAM_BENCH_DATA/sr.sorted.bam] [--split-size 16m]
       [--delay 0.02] [--spark] [--out bench/out/latency.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from sparkbam_py.bam.file import open_bam
from sparkbam_py.validators.hadoop_bam_splits import hadoop_bam_splits
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.channel import open_channel
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.config import DEFAULT_CACHE_BYTES, CheckerConfig
from sparkbam_py.pos import Pos
from sparkbam_py.bam.splits import compute_byte_ranges, find_split_start
from bench_data import SHORT_READS

CACHE_SETTINGS = {"on": DEFAULT_CACHE_BYTES, "off": 0}



def ours_per_split(url: str, split_size, cache_bytes: int, server: RangeHTTPServer) -> dict:
    """Every range's start search on its own fresh channel, as the executors run them."""
    before = server.request_count
    with open_bam(url, cache_bytes=cache_bytes) as bam:  # the driver: header and size
        header, size = bam.header, bam.size
    driver_requests = server.request_count - before
    seconds, requests = [], []
    for byte_range in compute_byte_ranges(size, split_size):
        before = server.request_count
        started = time.perf_counter()
        with open_channel(url, cache_bytes=cache_bytes) as channel:
            reader = BgzfReader(channel)
            find_split_start(reader, header, byte_range.start, CheckerConfig(), stop=Pos(byte_range.end, 0))
        seconds.append(time.perf_counter() - started)
        requests.append(server.request_count - before)
    return {
        "splits": len(seconds), "driver_requests": driver_requests,
        "requests": sum(requests) + driver_requests, "seconds_sum": round(sum(seconds), 3),
        "median_ms_per_split": round(1000 * statistics.median(seconds), 1),
        "median_requests_per_split": statistics.median(requests), "max_requests_per_split": max(requests),
    }


def baseline(url: str, split_size, cache_bytes: int, server: RangeHTTPServer) -> dict:
    """hadoop-bam's way: the driver opens the file and guesses every split in turn."""
    before = server.request_count
    started = time.perf_counter()
    with open_bam(url, cache_bytes=cache_bytes) as bam:
        splits = hadoop_bam_splits(bam, compute_byte_ranges(bam.size, split_size))
    seconds = time.perf_counter() - started
    requests = server.request_count - before
    return {"splits": len(splits), "requests": requests, "seconds": round(seconds, 3),
            "requests_per_split": round(requests / len(splits), 1)}


def spark_wall_time(url: str, split_size, server: RangeHTTPServer) -> dict:
    """Our splits computed by Spark tasks, as ``compute-splits`` runs them."""
    from sparkbam_py.spark import compute_splits, get_spark

    spark = get_spark("bench-latency", master="local[2]")
    compute_splits(spark, url, split_size)  # warm-up: Python workers, imports
    before = server.request_count
    started = time.perf_counter()
    splits = compute_splits(spark, url, split_size)
    return {"splits": len(splits), "seconds": round(time.perf_counter() - started, 3),
            "requests": server.request_count - before}


def markdown(report: dict) -> str:
    rows = ["| cache | ours: requests (per split, median) | ours: s summed over splits (ms per split, median) "
            "| baseline: requests (per split) | baseline: s on the driver |", "|---|---|---|---|---|"]
    for setting in CACHE_SETTINGS:
        ours, theirs = report["ours"][setting], report["baseline"][setting]
        rows.append(f"| {setting} | {ours['requests']} ({ours['median_requests_per_split']}) "
                    f"| {ours['seconds_sum']} ({ours['median_ms_per_split']}) "
                    f"| {theirs['requests']} ({theirs['requests_per_split']}) | {theirs['seconds']} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bam", default=str(SHORT_READS))
    parser.add_argument("--split-size", default="16m")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per request (default 0.02)")
    parser.add_argument("--spark", action="store_true", help="also time Spark tasks computing our splits")
    parser.add_argument("--out", default="bench/out/latency.json")
    args = parser.parse_args(argv)
    bam = Path(args.bam).resolve()
    report = {"bam": str(bam), "bytes": bam.stat().st_size, "split_size": args.split_size,
              "delay_s": args.delay, "ours": {}, "baseline": {}}
    with RangeHTTPServer(bam.parent, delay=args.delay) as server:
        url = server.url_for(bam.name)
        for setting, cache_bytes in CACHE_SETTINGS.items():
            report["ours"][setting] = ours_per_split(url, args.split_size, cache_bytes, server)
            report["baseline"][setting] = baseline(url, args.split_size, cache_bytes, server)
            print(setting, json.dumps(report["ours"][setting]), json.dumps(report["baseline"][setting]),
                  file=sys.stderr, flush=True)
        if args.spark:
            report["spark"] = spark_wall_time(url, args.split_size, server)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    if "spark" in report:
        print(f"\nSpark local[2], our splits over HTTP: {report['spark']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
