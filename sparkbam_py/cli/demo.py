"""``demo``: make a small BAM, load it with local Spark, and check every read came back once.

The first thing to run after installing: it needs nothing but this package and Java.  It
writes a coordinate-sorted paired-end BAM with pysam (three contigs, tags, a few unmapped
reads) in a temporary folder, loads it through ``spark.read.format("bam")`` at a small
split size so it gets many partitions, and compares the records of all partitions (virtual
position and name) with a sequential walk of the file.
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import List, Tuple

from .common import Command, Result

CONTIGS = (("chr1", 250_000), ("chr2", 180_000), ("chrM", 16_569))
READ_LENGTH = 150
UNMAPPED_PAIRS = 50
BASES = "ACGT"


def _pair_positions(rng: random.Random, pairs: int) -> List[Tuple[int, int, int]]:
    """(contig index, read start, mate start), sorted by contig then read start."""
    placed = []
    for _ in range(pairs):
        contig = rng.choices(range(len(CONTIGS)), weights=[length for _, length in CONTIGS])[0]
        insert = int(rng.gauss(350, 40))
        start = rng.randrange(0, CONTIGS[contig][1] - insert - READ_LENGTH)
        placed.append((contig, start, start + insert - READ_LENGTH))
    return placed


def write_demo_bam(path: Path, pairs: int, seed: int = 7) -> int:
    """A realistic small BAM; returns how many records it holds."""
    import pysam

    rng = random.Random(seed)
    header = pysam.AlignmentHeader.from_dict({
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": name, "LN": length} for name, length in CONTIGS],
        "RG": [{"ID": "demo", "SM": "sample1", "PL": "ILLUMINA"}],
        "PG": [{"ID": "sparkbam-demo", "PN": "sparkbam"}],
    })
    records = []
    for index, (contig, start, mate) in enumerate(_pair_positions(rng, pairs)):
        name = f"DEMO:1:FC01:1:{1101 + index % 50}:{rng.randrange(30000)}:{index}"
        for flag, here, there, tlen in ((99, start, mate, mate + READ_LENGTH - start),
                                        (147, mate, start, start - mate - READ_LENGTH)):
            records.append(_segment(header, rng, name, flag, contig, here, there, tlen))
    for index in range(UNMAPPED_PAIRS):
        for flag in (77, 141):
            records.append(_segment(header, rng, f"DEMO:1:FC01:2:1101:0:{index}", flag, -1, -1, -1, 0))
    mapped = sorted((r for r in records if not r.is_unmapped), key=lambda r: (r.reference_id, r.reference_start))
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for record in mapped + [r for r in records if r.is_unmapped]:
            out.write(record)
    return len(records)


def _segment(header, rng: random.Random, name: str, flag: int, contig: int, start: int, mate: int, tlen: int):
    import pysam

    segment = pysam.AlignedSegment(header)
    segment.query_name, segment.flag = name, flag
    segment.query_sequence = "".join(rng.choice(BASES) for _ in range(READ_LENGTH))
    segment.query_qualities = pysam.qualitystring_to_array("".join(chr(33 + rng.randrange(2, 41))
                                                                   for _ in range(READ_LENGTH)))
    segment.set_tag("RG", "demo")
    if contig >= 0:
        clip = rng.choice((0, 0, 0, 5, 12))
        segment.reference_id, segment.reference_start = contig, start
        segment.next_reference_id, segment.next_reference_start = contig, mate
        segment.template_length, segment.mapping_quality = tlen, rng.choice((60, 60, 60, 27, 0))
        segment.cigarstring = f"{clip}S{READ_LENGTH - clip}M" if clip else f"{READ_LENGTH}M"
        segment.set_tag("NM", rng.randrange(4))
        segment.set_tag("AS", READ_LENGTH - clip - rng.randrange(10))
    return segment


def sequential_positions(path: str) -> List[int]:
    """Every record's virtual offset, walking the file front to back."""
    from ..bam.file import open_bam

    with open_bam(path) as bam:
        return [int(v) for chunk in bam.iter_record_chunks() for v in chunk.virtual_offsets()]


class Demo(Command):
    name = "demo"
    help = "generate a small BAM, load it with local Spark, and check every read came back once"

    def configure(self, parser):
        parser.add_argument("--pairs", type=int, default=20_000, help="read pairs to generate (default 20000)")
        parser.add_argument("--split-size", default="512k", help="bytes per partition (default 512k: a dozen or so)")
        parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
        parser.add_argument("--dir", help="write the BAM here and keep it (default: a temporary folder)")

    def run(self, args) -> Result:
        if args.dir:
            Path(args.dir).mkdir(parents=True, exist_ok=True)
            return self._demo(Path(args.dir), args)
        with tempfile.TemporaryDirectory(prefix="sparkbam-demo-") as folder:
            return self._demo(Path(folder), args)

    def _demo(self, folder: Path, args) -> Result:
        from ..spark.api import compute_splits, load_reads_and_positions
        from ..spark.session import get_spark

        path = str(folder / "demo.bam")
        written = write_demo_bam(Path(path), args.pairs)
        started = time.perf_counter()
        # Under --remote/SPARK_REMOTE the Connect server owns the master.
        spark = get_spark("sparkbam-demo", master=None if os.environ.get("SPARK_REMOTE") else args.master)
        session_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reads = load_reads_and_positions(spark, path, args.split_size, ["query_name", "reference_name"])
        rows = reads.select("file_position", "reference_name").collect()
        per_contig = dict(Counter(row[1] or "(unplaced)" for row in rows))
        splits = compute_splits(spark, path, args.split_size)
        load_seconds = time.perf_counter() - started
        return _report(path, written, rows, per_contig, splits, session_seconds, load_seconds)


def _report(path, written, rows, per_contig, splits, session_seconds, load_seconds) -> Result:
    positions = [row[0] for row in rows]
    truth = sequential_positions(path)
    counts = Counter(positions)
    lost = len(set(truth) - set(positions))
    repeated = sum(n - 1 for n in counts.values() if n > 1)
    invented = len(set(positions) - set(truth))
    exact = sorted(positions) == truth
    lines = [f"Wrote {written} reads to {path}",
             f"Loaded {len(positions)} reads in {len(splits)} splits ({load_seconds:.1f} s; session {session_seconds:.1f} s)"]
    lines += [f"  {contig}: {count}" for contig, count in per_contig.items()]
    lines += ["Splits:"] + [f"  {split}" for split in splits[:10]]
    if len(splits) > 10:
        lines.append(f"  ... and {len(splits) - 10} more")
    verdict = "exactly once" if exact else f"MISMATCH: {lost} lost, {repeated} duplicated, {invented} invented"
    lines.append(f"Every read vs a sequential walk: {verdict}")
    data = {"path": path, "written": written, "loaded": len(positions), "per_contig": per_contig,
            "splits": [str(split) for split in splits], "exactly_once": exact, "lost": lost,
            "duplicated": repeated, "invented": invented, "load_seconds": round(load_seconds, 3)}
    return Result(lines, data, exit_code=0 if exact else 1)


COMMAND = Demo()
