"""Shared by the BAM-writing tests: decode a BAM without Spark, write it back, compare."""
from __future__ import annotations

import random
import subprocess
import warnings
from pathlib import Path
from typing import Iterator, List

import pyarrow as pa
import pysam

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.write.commit import commit
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob

# Task attempt id the Spark-free writes pretend to be.
ATTEMPT = 7


def decoded_batches(path, rows: int) -> Iterator[pa.RecordBatch]:
    """The BAM's records as the executors decode them, in batches of at most ``rows``."""
    with open_bam(str(path)) as bam:
        names = bam.header.reference_names
        for chunk in bam.iter_record_chunks():
            batch = decode_records(chunk.run.data, chunk.offsets, names)
            for start in range(0, len(batch), rows):
                yield batch.slice(start, rows)


def write_without_spark(source, out, parts: int = 3, rows: int = 1000, header=None, **job_options) -> dict:
    """Decode ``source`` and write it to ``out`` as ``parts`` tasks would, then commit."""
    batches = list(decoded_batches(source, rows))
    job = WriteJob.create(str(out), header or header_from_bam(str(source)), overwrite=True, **job_options)
    per_part = max(1, -(-len(batches) // parts))
    summaries = [job.write_part(batches[i:i + per_part], number, ATTEMPT)
                 for number, i in enumerate(range(0, max(len(batches), 1), per_part))]
    return commit(job, summaries)


def sam_records(path) -> List[bytes]:
    """``samtools view`` output (SAM text without the header), one line per record."""
    result = subprocess.run(["samtools", "view", str(path)], capture_output=True, check=True)
    return result.stdout.splitlines()


def quickcheck(path) -> bool:
    # -u: a BAM of unaligned reads (no @SQ) is valid too.
    return subprocess.run(["samtools", "quickcheck", "-u", str(path)], capture_output=True).returncode == 0


def samtools_index(bam, out, csi: bool = False) -> Path:
    subprocess.run(["samtools", "index"] + (["-c"] if csi else []) + ["-o", str(out), str(bam)],
                   check=True, capture_output=True)
    return Path(out)


def fetched(bam, index, contig, start=None, stop=None) -> List[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pysam.AlignmentFile(str(bam), index_filename=str(index)) as handle:
            return [read.to_string() for read in handle.fetch(contig, start, stop)]


def index_disagreements(bam, ours, theirs, queries: int = 40, seed: int = 1) -> List[tuple]:
    """Regions (random, and whole references) where the two indexes fetch different reads."""
    rng = random.Random(seed)
    with pysam.AlignmentFile(str(bam), "rb", check_sq=False) as handle:
        references = list(zip(handle.references, handle.lengths))
    # Whole references too, a sample of them (files with tens of thousands exist).
    regions = [(name, None, None) for name, _ in rng.sample(references, min(len(references), 25))]
    for _ in range(queries if references else 0):
        name, length = rng.choice(references)
        start = rng.randrange(0, length)
        regions.append((name, start, min(length, start + rng.choice([1, 150, 20_000, 1_000_000, length]))))
    return [region for region in regions if fetched(bam, ours, *region) != fetched(bam, theirs, *region)]


def index_counts(bam, index):
    with pysam.AlignmentFile(str(bam), index_filename=str(index)) as handle:
        return [(s.contig, s.mapped, s.unmapped) for s in handle.get_index_statistics()], handle.nocoordinate
