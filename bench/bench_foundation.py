"""Issue 2 benchmark: inflate (isal vs zlib), record walk + fixed fields, beside samtools.

Usage: python bench/bench_foundation.py BAM [--repeat 3] [--json]

Everything runs on one core, in one process, in the same run as ``samtools view -c``
(``-@0``, one thread) on the same file; figures are medians over the repeats, and
ratios against samtools are what to compare across machines (this one is shared).
Rates are per second of CPU time (ours: process time; samtools: the child's user+system
time), which other jobs on a shared machine disturb far less than wall time.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import time
import zlib

import numpy as np
from isal import isal_zlib

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.layout import gather_fixed_fields
from sparkbam_py.bam.walk import walk_chain
from sparkbam_py.bgzf.blocks import iter_raw_blocks
from sparkbam_py.bgzf.inflate import RAW_DEFLATE_WBITS, block_isize
from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.channel import open_channel

WALK_RUN_BYTES = 64 << 20  # pre-inflated data per walk-only measurement


def raw_payloads(path):
    """(deflate payload, isize) of every block, read into memory once."""
    with open_channel(path) as channel:
        return [(bytes(raw[h.header_size : h.block_size - 8]), block_isize(raw, h))
                for h, raw in iter_raw_blocks(channel)]


def time_inflate(payloads, decompress):
    started = time.process_time()
    out = 0
    for payload, isize in payloads:
        out += len(decompress(payload, RAW_DEFLATE_WBITS, max(isize, 1)))
    return out, time.process_time() - started


def time_walk_and_fixed_fields(path):
    """Records/s of the whole pipeline from compressed bytes: inflate, walk, fixed fields."""
    started = time.process_time()
    records = 0
    with open_bam(path) as bam:
        for chunk in bam.iter_record_chunks():
            chunk.fixed_fields()
            chunk.virtual_offsets()
            records += len(chunk)
    return records, time.process_time() - started


def time_walk_only(path):
    """Records/s of walk + fixed fields on data already inflated (first WALK_RUN_BYTES)."""
    with open_bam(path) as bam:
        blocks = []
        for block in bam.reader.iter_blocks(bam.header.end.block_pos):
            blocks.append(block)
            if sum(len(b.data) for b in blocks) >= WALK_RUN_BYTES:
                break
        run = InflatedRun.from_blocks(blocks, blocks[-1].end, False)
        # Warm up: the first gather pays for pyarrow's kernel registry.
        gather_fixed_fields(run.data, np.array([bam.header.end.offset], dtype=np.int64))
        started = time.process_time()
        offsets, _ = walk_chain(run, bam.header.end.offset)
        gather_fixed_fields(run.data, offsets)
        run.virtual_offsets(offsets)
        return len(offsets), time.process_time() - started


def child_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_samtools(path):
    if not shutil.which("samtools"):
        return None, None
    started = child_cpu_seconds()
    out = subprocess.run(["samtools", "view", "-c", "-@0", path], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()), child_cpu_seconds() - started


def median_rate(samples):
    return statistics.median(amount / seconds for amount, seconds in samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    payloads = raw_payloads(args.bam)
    samples = {"isal": [], "zlib": [], "pipeline": [], "walk_fixed": [], "samtools": []}
    for _ in range(args.repeat):
        samples["isal"].append(time_inflate(payloads, isal_zlib.decompress))
        samples["zlib"].append(time_inflate(payloads, zlib.decompress))
        samples["pipeline"].append(time_walk_and_fixed_fields(args.bam))
        samples["walk_fixed"].append(time_walk_only(args.bam))
        count, seconds = time_samtools(args.bam)
        if count is not None:
            samples["samtools"].append((count, seconds))
    records = samples["pipeline"][0][0]
    result = {
        "file": args.bam,
        "compressed_bytes": sum(len(p) for p, _ in payloads),
        "inflated_bytes": samples["isal"][0][0],
        "records": records,
        "inflate_isal_MBps": round(median_rate(samples["isal"]) / 1e6, 1),
        "inflate_zlib_MBps": round(median_rate(samples["zlib"]) / 1e6, 1),
        "walk_fixed_Mrecps_preinflated": round(median_rate(samples["walk_fixed"]) / 1e6, 2),
        "pipeline_Mrecps": round(median_rate(samples["pipeline"]) / 1e6, 2),
        "samtools_Mrecps": round(median_rate(samples["samtools"]) / 1e6, 2) if samples["samtools"] else None,
        "samtools_records": samples["samtools"][0][0] if samples["samtools"] else None,
        "repeats": args.repeat,
    }
    if result["samtools_Mrecps"]:
        result["pipeline_vs_samtools"] = round(result["pipeline_Mrecps"] / result["samtools_Mrecps"], 2)
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
