"""The coverage service on a human-sized store under a bounded load: latency p50/p99 and the
server's resident memory, serving the store from a local folder and from S3 (a moto server).

    python bench/bench_serve.py STORE [--requests 300] [--clients 4] [--cache-mb 256] [--no-s3] [--json OUT]

``STORE`` is a coverage store (e.g. ``compute_coverage`` of ``make_human_bam.py --preset 30x``).
``sparkbam serve`` runs it in its own process (waitress, 8 threads); ``--clients`` threads
send ``--requests`` requests of each kind, at random places on contigs with data:

* ``mean 1 kbp``, ``mean 1 Mbp``, ``mean contig``: one range mean (all tracks);
* ``bins 1 Mbp``, ``bins contig``: 1,000 bin means over a random 1 Mbp / a whole contig;
* ``png contig``: a 1000 x 200 PNG of a whole contig.

For S3 the store's files are put into a bucket of ``python -m moto.server`` (its own process
on loopback) and served as ``s3://bucket/store``: each chunk a query needs is one ranged GET.
The server's VmRSS, VmHWM and RssAnon (its own memory, the decoded-chunk cache included) are
read from /proc after start-up and after each kind; the cache is bounded by ``--cache-mb``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from sparkbam_py.coverage.store import CoverageStore

BINS, PNG_WIDTH, PNG_HEIGHT = 1000, 1000, 200
MOTO_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
BUCKET = "bench"


def window(width):
    def query(name, length, rng):
        start = rng.randrange(0, length - width)
        return name, start, start + width
    return query


def whole(name, length, rng):
    return name, 0, length


KINDS = {
    "mean 1 kbp": (window(1_000), ""), "mean 1 Mbp": (window(1_000_000), ""), "mean contig": (whole, ""),
    "bins 1 Mbp": (window(1_000_000), f"&bins={BINS}"), "bins contig": (whole, f"&bins={BINS}"),
    "png contig": (whole, f"&width={PNG_WIDTH}&height={PNG_HEIGHT}"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto(store: Path):
    """A moto S3 server process holding a copy of ``store``; (process, environment, URL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    environment = {**MOTO_KEYS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    for _ in range(100):
        try:
            requests.get(environment["AWS_ENDPOINT_URL"], timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    import s3fs

    fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=environment["AWS_ENDPOINT_URL"])
    fs.mkdir(BUCKET)
    fs.put(str(store), f"{BUCKET}/store", recursive=True)
    return process, environment, f"s3://{BUCKET}/store"


def start_server(store: str, cache_mb: int, environment: dict):
    process = subprocess.Popen([sys.executable, "-m", "sparkbam_py", "serve", store, "--port", "0",
                                "--cache-mb", str(cache_mb)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, **environment})
    line = process.stdout.readline()
    if "serving" not in line:
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, line.rsplit(" at ", 1)[1].strip().rstrip("/")


def memory_mib(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {line.split(":")[0]: round(int(line.split()[1]) / 1024, 1) for line in status
            if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile"))}


def run_load(base: str, contigs: list, kind: str, n: int, clients: int, seed: int) -> list:
    rng = random.Random(seed)
    place, extra = KINDS[kind]
    paths = []
    for _ in range(n):
        name, start, end = place(*rng.choice(contigs), rng)
        paths.append(f"/api/coverage/{name}?start={start}&end={end}{extra}")
    local = threading.local()

    def one(path):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(base + path, timeout=120)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, paths))


def percentiles(seconds: list) -> dict:
    values = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2),
            "requests": len(values)}


def bench_location(store: str, contigs: list, args, environment: dict) -> dict:
    started = time.perf_counter()
    process, base = start_server(store, args.cache_mb, environment)
    try:
        requests.get(base + "/api/contigs", timeout=60).raise_for_status()
        figures = {"start_seconds": round(time.perf_counter() - started, 2),
                   "memory_mib": {"started": memory_mib(process.pid)}}
        for round_number in (1, 2):  # the second round shows whether memory keeps growing
            latency = figures[f"latency round {round_number}"] = {}
            for kind in KINDS:
                run_load(base, contigs, kind, max(10, args.requests // 10), args.clients, seed=round_number)  # warm-up
                began = time.perf_counter()
                seconds = run_load(base, contigs, kind, args.requests, args.clients, seed=10 + round_number)
                latency[kind] = {**percentiles(seconds),
                                 "requests_per_s": round(len(seconds) / (time.perf_counter() - began), 1)}
                figures["memory_mib"][f"round {round_number}, after {kind}"] = memory_mib(process.pid)
            print(json.dumps({"store": store, "round": round_number, **latency}), flush=True)
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cache-mb", type=int, default=256)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    opened = CoverageStore(args.store)
    with_data = {int(key >> 32) for key in opened.index.key}
    contigs = [(c["name"], c["length"]) for i, c in enumerate(opened.contigs) if i in with_data and c["length"] > 2_000_000]
    output = {"store": args.store, "stored_bytes": opened.manifest["stored_bytes"], "clients": args.clients,
              "cache_mb": args.cache_mb, "load_average_before": os.getloadavg(),
              "local": bench_location(args.store, contigs, args, {})}
    if not args.no_s3:
        moto, environment, url = start_moto(Path(args.store))
        try:
            output["s3"] = bench_location(url, contigs, args, environment)
        finally:
            moto.terminate()
            moto.wait(timeout=30)
    output["load_average_after"] = os.getloadavg()
    print(json.dumps(output, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(output, indent=1))


if __name__ == "__main__":
    main()
