"""Remote reads: requests per split with the page cache on and off, and how reads end under
injected faults, over HTTP (the loopback Range server) and S3 (moto in server mode, s3fs).

    python bench/bench_remote.py BAM [--split-size 1m] [--rate 0.2] [--seed 1] [--json OUT]

Each split is read by the executor code (``SplitReader``: find the first record, walk to the
end, check the boundary) in this process, one fresh channel per split as in a Spark task.
Requests are counted where they arrive (a pass-through proxy), so the figures include every
HEAD and retry.  For the faults, every split is read once per fault kind (alone, at
``--rate`` per byte request) and once with all kinds mixed; each read ends "exact" (the same
records as a local read), "InputIOError" (typed, naming URL and byte range), or anything else
(counted as "other" or "WRONG": the bench reports them, a test asserts they never happen).
Needs the ``s3`` and ``test`` extras (s3fs, moto[server]).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

from sparkbam_py.testing.fault_proxy import FAULT_KINDS, FaultProxy
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.testing.moto_s3 import MotoS3
from sparkbam_py.channel.retry import READ_TIMEOUT_VARIABLE
from sparkbam_py.channel.storage import storage_options_applied
from sparkbam_py.errors import InputIOError
from sparkbam_py.bam.splits import SplitReader, plan_file

BUCKET = "bench-remote"
STALL_SECONDS = 1.5
READ_TIMEOUT = 0.5


def read_split(task):
    with SplitReader(task) as split:
        records = [int(v) for chunk in split.iter_chunks() for v in chunk.virtual_offsets()]
        return records, split.channel.stats


def requests_per_split(tasks, url: str, proxy: FaultProxy) -> dict:
    """Requests that reached the store for each split, page cache on and off."""
    figures = {}
    for label, cache_bytes in (("cache_on", tasks[0].cache_bytes), ("cache_off", 0)):
        counts, seconds = [], []
        for task in tasks:
            proxy.reset_counts()
            started = time.perf_counter()
            read_split(dataclasses.replace(task, path=url, cache_bytes=cache_bytes))
            seconds.append(time.perf_counter() - started)
            counts.append(proxy.counts.get("forwarded", 0))
        figures[label] = {"splits": len(counts), "median": statistics.median(counts), "max": max(counts),
                          "total": sum(counts), "seconds_median": round(statistics.median(seconds), 4)}
    return figures


def outcomes(tasks, truth, url: str, proxy: FaultProxy, rates: dict) -> dict:
    proxy.set_rates(rates)
    proxy.reset_counts()
    ended = {"exact": 0, "InputIOError": 0, "other": 0, "WRONG": 0}
    started = time.perf_counter()
    for task, expected in zip(tasks, truth):
        try:
            records, _ = read_split(dataclasses.replace(task, path=url))
        except InputIOError:
            ended["InputIOError"] += 1
        except Exception:  # noqa: BLE001 - the bench counts what a test forbids
            ended["other"] += 1
        else:
            ended["exact" if records == expected else "WRONG"] += 1
    injected = {kind: count for kind, count in proxy.counts.items() if kind in FAULT_KINDS}
    proxy.set_rates({})
    return {"ended": ended, "injected": injected, "requests": proxy.counts.get("requests", 0),
            "seconds": round(time.perf_counter() - started, 2)}


def fault_table(tasks, truth, url, proxy, rate: float) -> dict:
    table = {kind: outcomes(tasks, truth, url, proxy, {kind: rate}) for kind in FAULT_KINDS}
    table["mixed"] = outcomes(tasks, truth, url, proxy, {kind: rate / len(FAULT_KINDS) for kind in FAULT_KINDS})
    return table


def run_store(name, tasks, truth, url, upstream, rate, seed, storage=None) -> dict:
    """Both measurements for one store; ``url`` None means the proxy's own URL + the file name
    (HTTP), else the URL stays and ``storage`` points s3fs at the proxy (S3)."""
    with FaultProxy(upstream, {}, seed=seed, stall_seconds=STALL_SECONDS) as proxy:
        url = url or f"{proxy.url}/{Path(tasks[0].path).name}"
        options = None
        if storage is not None:  # botocore's own retries off: the channel's retries are measured
            options = dict(storage, endpoint_url=proxy.url,
                           config_kwargs={"read_timeout": READ_TIMEOUT, "connect_timeout": 1,
                                          "retries": {"max_attempts": 1, "mode": "standard"}})
        with storage_options_applied(options or {}, [url]):
            return {"store": name, "requests_per_split": requests_per_split(tasks, url, proxy),
                    "faults": fault_table(tasks, truth, url, proxy, rate)}


def report(result: dict) -> None:
    for store in result["stores"]:
        print(f"\n== {store['store']}: {result['splits']} splits of {result['split_size']} bytes, {result['bam']}")
        for label, row in store["requests_per_split"].items():
            print(f"requests per split, {label:9}: median {row['median']}, max {row['max']}, total {row['total']}, "
                  f"median split {row['seconds_median']} s")
        print(f"{'fault':8} {'injected':>8} {'requests':>8} {'exact':>6} {'IOError':>7} {'other':>6} {'WRONG':>6} {'s':>6}")
        for kind, row in store["faults"].items():
            e = row["ended"]
            print(f"{kind:8} {sum(row['injected'].values()):8} {row['requests']:8} {e['exact']:6} "
                  f"{e['InputIOError']:7} {e['other']:6} {e['WRONG']:6} {row['seconds']:6}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bam")
    parser.add_argument("--split-size", default="1m")
    parser.add_argument("--rate", type=float, default=0.2, help="fault probability per byte request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    os.environ[READ_TIMEOUT_VARIABLE] = str(READ_TIMEOUT)  # so a stall costs 0.5 s, not 20
    bam = Path(args.bam).resolve()
    _, tasks = plan_file(str(bam), args.split_size)
    truth = [read_split(task)[0] for task in tasks]
    result = {"bam": str(bam), "split_size": tasks[0].range.end - tasks[0].range.start, "splits": len(tasks),
              "rate": args.rate, "stall_seconds": STALL_SECONDS, "read_timeout": READ_TIMEOUT, "stores": []}
    with RangeHTTPServer(bam.parent) as server:
        result["stores"].append(run_store("http", tasks, truth, None, server.url_for("").rstrip("/"),
                                          args.rate, args.seed))
    with MotoS3() as s3:
        s3.create_bucket(BUCKET)
        url = s3.upload(BUCKET, bam.name, bam)
        result["stores"].append(run_store("s3", tasks, truth, url, s3.endpoint_url, args.rate, args.seed,
                                          s3.storage_options))
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    # A wrong record or an untyped error is a failure; a typed InputIOError after retries is not.
    bad = sum(row["ended"]["WRONG"] + row["ended"]["other"] for store in result["stores"]
              for row in store["faults"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
