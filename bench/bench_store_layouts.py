"""Our chunk layout against zarr v3 + numcodecs' blosc for the same depth: bytes, build time,
read latency.  Needs ``pip install zarr`` (not a dependency of the project: this measures
whether it should be one).

    python bench/bench_store_layouts.py STORE [--contigs chr20,chr21,chr22] [--queries 300]

The depth of each contig is read once from an existing coverage store (``STORE``, ours) into
memory, then written again, one contig at a time, by:

* ours: :func:`write_chunks` of each 1 Mbp's runs into a part file, then the index and
  manifest (64 kbp chunks of runs, narrow run lengths and value steps, zstd level 1);
* zarr v3: one uint16 array per contig, 64 kbp chunks in 1 Mbp shards (one shard is one
  task's output, as ours), empty chunks not written, blosc zstd level 5 with bit shuffle,
  and the same with byte shuffle.

Reads: the per-base values of random windows of 1 kbp, 64 kbp and 1 Mbp, with nothing decoded
kept from one request to the next (ours with a cache of one byte; zarr keeps none), p50/p99
over ``--queries`` windows.  Range means are not compared: with per-chunk sums beside it (which
zarr does not keep) either layout reads the same two edge chunks for a mean, so the window
reads above are what differs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sparkbam_py.coverage.chunk_files import write_chunks
from sparkbam_py.coverage.runs import runs_from_dense
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.coverage.store_commit import commit_store, prepare_store

CHUNK = 1 << 16
SHARD = 1 << 20
WINDOWS = {"1 kbp": 1_000, "64 kbp": CHUNK, "1 Mbp": 1_000_000}


def folder_bytes(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def write_ours(depths: dict, out: Path) -> float:
    """CPU seconds of encoding and writing runs (a shard's worth of chunks per part file, as a
    task writes them) and committing; making the runs from dense arrays is not counted (the
    build makes them from read events)."""
    prepare_store(str(out))
    seconds, rows = 0.0, []
    for index, depth in enumerate(depths.values()):
        for lo in range(0, len(depth), SHARD):
            chunks = range(lo, min(lo + SHARD, len(depth)), CHUNK)
            keys = np.array([(index << 32) | (start // CHUNK) for start in chunks], dtype=np.int64)
            blocks = [depth[start:start + CHUNK, None] for start in chunks]
            runs = runs_from_dense(keys, np.array([len(block) for block in blocks]), blocks)
            started = time.process_time()
            rows.append(write_chunks(runs, str(out)))
            seconds += time.process_time() - started
    started = time.process_time()
    commit_store(str(out), [(name, len(d)) for name, d in depths.items()], ["all"], CHUNK, rows)
    return seconds + time.process_time() - started


def write_zarr(depths: dict, out: Path, shuffle: str) -> float:
    import zarr
    from zarr.codecs import BloscCodec

    started = time.process_time()
    group = zarr.open_group(str(out), mode="w")
    for name, depth in depths.items():
        array = group.create_array(name=name, shape=(len(depth),), chunks=(CHUNK,), shards=(SHARD,), dtype="uint16",
                                   fill_value=0, compressors=BloscCodec(cname="zstd", clevel=5, shuffle=shuffle),
                                   config={"write_empty_chunks": False})
        for lo in range(0, len(depth), SHARD):
            array[lo:lo + SHARD] = depth[lo:lo + SHARD]
    return time.process_time() - started


def read_latencies(read, depths: dict, queries: int, seed: int = 7) -> dict:
    """p50/p99 milliseconds of ``read(contig, start, end)`` over random windows per size."""
    rng = np.random.default_rng(seed)
    names = list(depths)
    found = {}
    for label, width in WINDOWS.items():
        seconds = []
        for _ in range(queries):
            name = names[rng.integers(len(names))]
            start = int(rng.integers(0, len(depths[name]) - width))
            began = time.perf_counter()
            values = read(name, start, start + width)
            seconds.append(time.perf_counter() - began)
            if not np.array_equal(np.asarray(values).reshape(-1), depths[name][start:start + width]):
                raise AssertionError(f"{label} window of {name} at {start} differs")
        seconds.sort()
        found[label] = {"p50_ms": round(1000 * statistics.median(seconds), 3),
                        "p99_ms": round(1000 * seconds[int(0.99 * (len(seconds) - 1))], 3)}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--contigs", default="chr20,chr21,chr22")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json")
    args = parser.parse_args()
    import zarr

    source = CoverageStore(args.store)
    depths = {name: source.values(name, 0, source.length(name), ["all"])[:, 0].astype(np.uint16)
              for name in args.contigs.split(",")}
    bases = sum(len(depth) for depth in depths.values())
    work = Path(tempfile.mkdtemp(prefix="bench-layouts-"))
    result = {"store": args.store, "bases": bases, "load_average_before": os.getloadavg(), "layouts": {}}
    try:
        layouts = {"ours (runs, zstd 1)": (lambda out: write_ours(depths, out),
                                          lambda out: (lambda s: lambda n, a, b: s.values(n, a, b))
                                          (CoverageStore(out, cache_bytes=1))),
                   "zarr v3, blosc zstd 5 bitshuffle": (lambda out: write_zarr(depths, out, "bitshuffle"),
                                                       lambda out: (lambda g: lambda n, a, b: g[n][a:b])
                                                       (zarr.open_group(str(out), mode="r"))),
                   "zarr v3, blosc zstd 5 shuffle": (lambda out: write_zarr(depths, out, "shuffle"),
                                                    lambda out: (lambda g: lambda n, a, b: g[n][a:b])
                                                    (zarr.open_group(str(out), mode="r")))}
        for number, (label, (write, reader)) in enumerate(layouts.items()):
            out = work / f"layout{number}"
            cpu = write(out)
            size = folder_bytes(out)
            result["layouts"][label] = {"bytes": size, "bytes_per_base": round(size / bases, 4),
                                        "write_cpu_seconds": round(cpu, 2), "files": sum(1 for _ in out.rglob("*")),
                                        "reads": read_latencies(reader(out), depths, args.queries)}
            print(label, json.dumps(result["layouts"][label]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
