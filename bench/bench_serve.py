"""The coverage service under a bounded load on loopback: latency p50/p99 of range means,
binned means and PNGs, and the server's resident memory as the store grows 10x.

Stores are synthetic (random depths 0..60 on two strand tracks, 5 Mbp contigs): one of
``--bases`` bases and one ten times larger.  Each is served by ``sparkbam serve`` (waitress,
its own process) while ``--clients`` threads send ``--requests`` requests of each kind at
random ranges over the whole store; the server's VmRSS, VmHWM and its split into RssAnon
(its own memory) and RssFile (store pages touched through the memory maps) are read from /proc.

Usage: python bench/bench_serve.py [--bases 10000000] [--requests 400] [--clients 4] [--out bench/out/serve.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from sparkbam_py.coverage.store_writer import StoreWriter

CONTIG_BASES = 5_000_000
SLAB = 1 << 21
KINDS = {
    "mean": lambda contig, start, end: f"/api/coverage/{contig}?start={start}&end={end}",
    "bins": lambda contig, start, end: f"/api/coverage/{contig}?start={start}&end={end}&bins=1000",
    "png": lambda contig, start, end: f"/api/coverage/{contig}?start={start}&end={end}&width=1000&height=200",
}


def build_store(path: Path, bases: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    contigs = [(f"c{i}", CONTIG_BASES) for i in range(max(1, bases // CONTIG_BASES))]
    writer = StoreWriter(str(path), contigs, ["+", "-"], metadata={"strands": {"+": "+", "-": "-"}})
    for index in range(len(contigs)):
        slabs = ((lo, rng.integers(0, 60, size=(min(SLAB, CONTIG_BASES - lo), 2), dtype=np.uint32))
                 for lo in range(0, CONTIG_BASES, SLAB))
        writer.write_contig(index, slabs)
    writer.close()
    return contigs


def start_server(store: Path):
    process = subprocess.Popen([sys.executable, "-m", "sparkbam_py", "serve", str(store), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if "serving" not in line:
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, line.rsplit(" at ", 1)[1].strip().rstrip("/")


def memory_kib(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    # RssAnon is the process's own memory; RssFile counts the store's pages it has touched
    # through the memory maps (page cache, clean: the kernel drops them under pressure).
    return {line.split(":")[0]: int(line.split()[1]) for line in status
            if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile"))}


def run_load(base: str, contigs: list, kind: str, n: int, clients: int, seed: int) -> list:
    rng = random.Random(seed)
    paths = []
    for _ in range(n):
        name, length = rng.choice(contigs)
        width = rng.randint(1_000, 1_000_000)
        start = rng.randrange(0, length - width)
        paths.append(KINDS[kind](name, start, start + width))
    local = threading.local()

    def one(path):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(base + path, timeout=60)
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


def bench_store(store: Path, contigs: list, args) -> dict:
    process, base = start_server(store)
    try:
        requests.get(base + "/api/contigs", timeout=30).raise_for_status()
        after_start = memory_kib(process.pid)
        figures = {}
        for kind in KINDS:
            run_load(base, contigs, kind, max(20, args.requests // 10), args.clients, seed=1)  # warm-up
            started = time.perf_counter()
            seconds = run_load(base, contigs, kind, args.requests, args.clients, seed=2)
            figures[kind] = {**percentiles(seconds),
                             "requests_per_s": round(len(seconds) / (time.perf_counter() - started), 1)}
        return {"bases": sum(length for _, length in contigs), "latency": figures,
                "memory_kib_after_start": after_start, "memory_kib_after_load": memory_kib(process.pid)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bases", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        results = []
        for label, bases in (("1x", args.bases), ("10x", 10 * args.bases)):
            store = work / label
            started = time.perf_counter()
            contigs = build_store(store, bases, seed=len(results))
            built = time.perf_counter() - started
            store_bytes = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
            figures = bench_store(store, contigs, args)
            results.append({"store": label, "store_bytes": store_bytes, "build_seconds": round(built, 1), **figures})
            print(json.dumps(results[-1]), flush=True)
            shutil.rmtree(store)
        output = {"clients": args.clients, "load_average": os.getloadavg(), "stores": results}
        print(json.dumps(output, indent=1))
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(output, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
