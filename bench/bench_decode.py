"""Micro-benchmark of decode_records: records/s on a synthetic batch of short reads, one core.

    .venv/bin/python bench/bench_decode.py [--records 1000000] [--batch 100000] [--repeat 3] [--per-column]
    taskset -c 0 .venv/bin/python bench/bench_decode.py --bam BAM [--typed-tags]   # CPU s per step

With ``--bam``, the real file's record chunks are decoded as a data source does, and the CPU
seconds of each shared step (spans, tag walk, CIGAR ops) and column builder are summed over
the file, next to the chunk walk (inflate, CRC, record offsets) that feeds them.

pysam writes a few thousand varied 2x100 bp records (BWA-like tags: NM, MD, AS, XS, RG), and
their inflated bytes are tiled up to the requested count, so building the input is fast and
only decoding is timed: the records are decoded ``--batch`` at a time (one decode_records
call per batch, as a data source would), and the best of ``--repeat`` runs is printed per
column set.
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import struct
import sys
import tempfile
import time

import numpy as np
import pysam

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.schema import DEFAULT_COLUMNS

FIXED_ONLY = ("flag", "reference_start", "mapping_quality", "next_reference_start", "template_length")
DISTINCT_RECORDS = 5000
READ_LENGTH = 100


def _segment(header, rng: random.Random, index: int) -> pysam.AlignedSegment:
    segment = pysam.AlignedSegment(header)
    segment.query_name = f"HWI-ST1234:8:1101:{rng.randrange(20000)}:{index}"
    segment.flag = rng.choice([99, 147, 83, 163, 4 | 1 | 8])
    segment.reference_id = rng.randrange(2)
    segment.reference_start = rng.randrange(1_000_000)
    segment.mapping_quality = rng.randrange(61)
    clip = rng.choice([0, 0, 0, 5, 12])
    segment.cigarstring = f"{READ_LENGTH - clip}M{clip}S" if clip else f"{READ_LENGTH}M"
    segment.query_sequence = "".join(rng.choice("ACGT") for _ in range(READ_LENGTH))
    segment.query_qualities = pysam.qualitystring_to_array(
        "".join(chr(33 + rng.randrange(2, 41)) for _ in range(READ_LENGTH))
    )
    segment.next_reference_id = segment.reference_id
    segment.next_reference_start = segment.reference_start + rng.randrange(-500, 500)
    segment.template_length = rng.randrange(-600, 600)
    segment.set_tag("NM", rng.randrange(5), "C")
    segment.set_tag("MD", f"{rng.randrange(60)}A{rng.randrange(30)}^T{rng.randrange(9)}", "Z")
    segment.set_tag("AS", rng.randrange(100), "C")
    segment.set_tag("XS", rng.randrange(100), "C")
    segment.set_tag("RG", "lane1", "Z")
    return segment


def synthetic_batch(n_records: int):
    """(data, offsets, reference names) holding ``n_records`` inflated records."""
    rng = random.Random(7)
    header = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "chr1", "LN": 10**8}, {"SN": "chr2", "LN": 10**8}]})
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.bam")
        with pysam.AlignmentFile(path, "wb", header=header) as out:
            for index in range(DISTINCT_RECORDS):
                out.write(_segment(header, rng, index))
        raw = gzip.decompress(open(path, "rb").read())
    body = _records_only(raw)
    record_offsets = _walk(body)
    copies = -(-n_records // len(record_offsets))
    # Backed by bytes, like inflated data in real use.
    data = np.frombuffer(body * copies, dtype=np.uint8)
    offsets = (record_offsets[None, :] + len(body) * np.arange(copies)[:, None]).reshape(-1)[:n_records]
    return data, offsets, ["chr1", "chr2"]


def _records_only(raw: bytes) -> bytes:
    """Skip the BAM header (SAMv1 §4.2: magic, l_text, text, n_ref, references)."""
    (l_text,) = struct.unpack_from("<i", raw, 4)
    at = 8 + l_text
    (n_ref,) = struct.unpack_from("<i", raw, at)
    at += 4
    for _ in range(n_ref):
        (l_name,) = struct.unpack_from("<i", raw, at)
        at += 8 + l_name
    return raw[at:]


def _walk(body: bytes) -> np.ndarray:
    offsets, at = [], 0
    while at < len(body):
        offsets.append(at)
        at += 4 + struct.unpack_from("<i", body, at)[0]
    return np.array(offsets, dtype=np.int64)


def best_rates(data, offsets, names, columns, repeat: int, batch: int):
    """Records per second of the fastest run, by wall-clock time and by this process's CPU time.

    On a shared machine the CPU figure is the steadier one.
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        for first in range(0, len(offsets), batch):
            decode_records(data, offsets[first : first + batch], names, columns)
        wall = min(wall, time.perf_counter() - wall_start)
        cpu = min(cpu, time.process_time() - cpu_start)
    return len(offsets) / wall, len(offsets) / cpu


def step_breakdown(path: str, typed_tags: bool) -> None:
    """CPU seconds per decoding step over every record chunk of ``path`` (all columns)."""
    import collections

    import pyarrow as pa

    from sparkbam_py.bam import decode
    from sparkbam_py.bam.file import open_bam
    from sparkbam_py.kernels import kernels_in_use
    from sparkbam_py.bam.typed_tags import discover_tags

    spec = discover_tags(path) if typed_tags else None
    seconds = collections.Counter()

    def timed(label, build):
        started = time.process_time()
        build()
        seconds[label] += time.process_time() - started

    records = 0
    with open_bam(path) as bam:
        bam.reader.verify_checksums = True
        names = pa.array(bam.header.reference_names, pa.string())
        started = time.process_time()
        for chunk in bam.iter_record_chunks():
            seconds["(walk: inflate, CRC, offsets)"] += time.process_time() - started
            offsets = np.asarray(chunk.offsets, dtype=np.int64)
            batch = None

            def spans():
                nonlocal batch
                batch = decode.BatchDecoder(chunk.run.data, offsets, names, DEFAULT_COLUMNS)

            timed("spans", spans)
            for step in ("tag_entries", "stored_cigar_ops", "long_cigars", "cigar_ops"):
                timed(step, lambda: getattr(batch, step))
            for name in DEFAULT_COLUMNS:
                timed(name, lambda: decode._COLUMN_BUILDERS[name](batch))
            if spec is not None:
                timed("typed_tags", lambda: batch.typed_tags_column(spec))
            records += len(offsets)
            started = time.process_time()
    total = sum(value for label, value in seconds.items() if not label.startswith("("))
    print(f"{records:,} records, kernels: {kernels_in_use()}; decode {total:.2f} CPU s "
          f"({records / total / 1e3:.0f} k records/s), walk {seconds['(walk: inflate, CRC, offsets)']:.2f} s")
    for label, value in seconds.most_common():
        print(f"{label:>30} {value:7.3f} s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="records per decode_records call")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-column", action="store_true", help="also time each column alone")
    parser.add_argument("--bam", help="instead: CPU seconds per decoding step over this file's chunks")
    parser.add_argument("--typed-tags", action="store_true", help="with --bam: also the discovered typed tags")
    args = parser.parse_args(argv)
    if args.bam:
        return step_breakdown(args.bam, args.typed_tags)
    data, offsets, names = synthetic_batch(args.records)
    print(f"{len(offsets):,} records of {len(data) / len(offsets):.0f} bytes, {args.batch:,} per batch")
    sets = {"full schema": None, "fixed fields only": FIXED_ONLY}
    if args.per_column:
        sets.update({name: (name,) for name in DEFAULT_COLUMNS})
    for label, columns in sets.items():
        wall_rate, cpu_rate = best_rates(data, offsets, names, columns, args.repeat, args.batch)
        print(f"{label:>22}: {wall_rate / 1e6:6.2f} M records/s wall, {cpu_rate / 1e6:6.2f} M records/s CPU")


if __name__ == "__main__":
    sys.exit(main())
