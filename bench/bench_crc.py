"""What checking every BGZF block's CRC32 costs: executor count and full decode, on vs off.

    python bench/bench_crc.py BAM [--repeats 3] [--core 0]

Pins itself (and samtools) to one core and reports CPU seconds, medians of ``--repeats``
runs, the on/off modes interleaved so that machine noise hits both alike:

* ``count``: every split's executor count (``split_row(task, count=True)``: record-start
  search, block_size chain walk, boundary check), as ``count_reads`` runs it;
* ``decode``: every split decoded to Arrow, all columns (``iter_batches``, batches dropped);
* ``crc pass``: the CRC32 alone over every block's inflated data (isal, the backend used),
  next to inflating alone: the cost of the check with nothing else around it;
* ``samtools view -c -@0`` on the same file in the same run (htslib also checks CRC32s).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List

from sparkbam_py import iter_batches
from sparkbam_py.bgzf.blocks import iter_raw_blocks
from sparkbam_py.bgzf.inflate import INFLATE_BACKEND, crc32, inflate_block
from sparkbam_py.channel import open_channel
from sparkbam_py.bam.batches import split_row
from sparkbam_py.bam.options import ReadOptions
from sparkbam_py.formats.bam import plan_reads


def cpu_seconds(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def executor_count(path: str, verify: bool) -> int:
    tasks = plan_reads(path, ReadOptions.of(verify_checksums=verify))
    return sum(split_row(task, count=True)[4] for task in tasks)


def full_decode(path: str, verify: bool) -> int:
    return sum(batch.num_rows for batch in iter_batches(path, verify_checksums=verify))


def inflate_and_crc(path: str, group: int = 256) -> Dict[str, float]:
    """CPU seconds to inflate every block (no check), and to CRC32 the inflated data;
    ``group`` blocks at a time, so the inflated file is never held whole."""
    totals = {"inflate": 0.0, "crc": 0.0}
    with open_channel(path) as channel:
        blocks = iter_raw_blocks(channel)
        while True:
            started = time.process_time()
            inflated = [inflate_block(raw, header, path, verify_checksums=False)
                        for _, (header, raw) in zip(range(group), blocks)]
            totals["inflate"] += time.process_time() - started
            if not inflated:
                return totals
            started = time.process_time()
            for data in inflated:
                crc32(data)
            totals["crc"] += time.process_time() - started


def samtools_count(path: str, core: int) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["taskset", "-c", str(core), "samtools", "view", "-c", "-@0", path], check=True,
                   stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.core})
    path = args.bam
    times: Dict[str, List[float]] = {key: [] for key in
                                     ("count_on", "count_off", "decode_on", "decode_off", "inflate", "crc", "samtools")}
    executor_count(path, True)  # warm the page cache and imports
    for _ in range(args.repeats):
        for verify, label in ((True, "on"), (False, "off")):
            times[f"count_{label}"].append(cpu_seconds(lambda: executor_count(path, verify)))
        for verify, label in ((False, "off"), (True, "on")):
            times[f"decode_{label}"].append(cpu_seconds(lambda: full_decode(path, verify)))
        for key, value in inflate_and_crc(path).items():
            times[key].append(value)
        times["samtools"].append(samtools_count(path, args.core))
    median = {key: statistics.median(values) for key, values in times.items()}
    report(path, args, median, times)
    return 0


def report(path: str, args, median: Dict[str, float], times: Dict[str, List[float]]) -> None:
    records = executor_count(path, True)
    print(f"{path}: {records} records, {os.path.getsize(path)} bytes; backend {INFLATE_BACKEND}; "
          f"core {args.core}; CPU seconds, median of {args.repeats}")
    for what in ("count", "decode"):
        on, off = median[f"{what}_on"], median[f"{what}_off"]
        print(f"  {what:<7} checksums on {on:7.3f}  off {off:7.3f}  cost {100 * (on - off) / off:+5.1f}%  "
              f"on/samtools {on / median['samtools']:.2f}x")
    print(f"  crc pass {median['crc']:.3f} = {100 * median['crc'] / median['count_off']:.1f}% of count, "
          f"{100 * median['crc'] / median['decode_off']:.1f}% of decode, "
          f"{100 * median['crc'] / median['inflate']:.1f}% of inflating ({median['inflate']:.3f})")
    print(f"  samtools view -c -@0 {median['samtools']:.3f}")
    print(json.dumps({"records": records, "median_cpu_seconds": median, "runs": times}))


if __name__ == "__main__":
    sys.exit(main())
