"""What deciding the format costs an entry point: ``formats.format_for`` (one ranged read of the
file's start, the first BGZF block inflated), beside what every read pays anyway on the
driver (the BAM header, ``open_bam``), locally and through a loopback HTTP server with a
fixed delay per request standing in for a remote store.

    python bench/bench_sniff.py FILE.bam [--repeats 21] [--delay 0.02] [--json]

Prints medians (ms) and the ratio sniff / header read; paired runs (sniff, header, sniff...).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

from sparkbam_py.bam.file import open_bam
from sparkbam_py.formats import FORMAT_NAMES, format_for
from sparkbam_py.testing.http_server import RangeHTTPServer


def _header(path: str) -> None:
    with open_bam(path) as bam:
        bam.header


def _sniff(path: str) -> None:
    format_for(path, FORMAT_NAMES, "bench")


def paired_ms(path: str, repeats: int) -> Dict[str, float]:
    """Median milliseconds of each step, the two run alternately (A B A B)."""
    steps: Dict[str, Callable[[str], None]] = {"sniff": _sniff, "header": _header}
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            started = time.perf_counter()
            step(path)
            times[name].append(1000 * (time.perf_counter() - started))
    medians = {name: round(statistics.median(values), 2) for name, values in times.items()}
    medians["ratio"] = round(medians["sniff"] / medians["header"], 3)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bam")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per HTTP request (default 0.02)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"local": paired_ms(args.bam, args.repeats)}
    folder = Path(tempfile.mkdtemp(prefix="bench-sniff-"))
    try:
        shutil.copyfile(args.bam, folder / "x.bam")  # the server serves only files inside its folder
        with RangeHTTPServer(folder, delay=args.delay) as server:
            results[f"http (+{args.delay * 1000:.0f} ms/request)"] = paired_ms(server.url_for("x.bam"), args.repeats)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
        return
    for where, medians in results.items():
        print(f"{where}: format_for {medians['sniff']} ms, BAM header {medians['header']} ms, "
              f"ratio {medians['ratio']}")


if __name__ == "__main__":
    main()
