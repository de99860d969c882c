"""Generated BAMs for coverage tests: every CIGAR op, every filtered flag, read groups,
reads running off a contig's end, one contig without reads; written in small BGZF blocks
(the project's writer) so that reads span split boundaries at small split sizes."""
from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Dict, List

import numpy as np
import pysam

from fixtures import build_fixture, content_from_pysam

CONTIGS = [("chrA", 20_000), ("chrB", 9_000), ("chrEmpty", 3_000), ("chr:odd|name", 2_500)]
READ_GROUPS = [("rg1", "tissueX"), ("rg2", "tissueX"), ("rg3", "tissueY")]
# flag bits the tests exercise: paired, reverse, secondary, QC fail, duplicate, supplementary
FLAG_CHOICES = [0, 0, 0, 0x10, 0x10, 0x1 | 0x40, 0x1 | 0x80 | 0x10, 0x100, 0x200, 0x400, 0x800, 0x4]


def header_dict(read_groups=READ_GROUPS) -> Dict:
    return {"HD": {"VN": "1.6", "SO": "coordinate"},
            "SQ": [{"SN": name, "LN": length} for name, length in CONTIGS],
            "RG": [{"ID": rg, "SM": sm} for rg, sm in read_groups]}


def random_cigar(rng: random.Random) -> str:
    """A CIGAR with clips, matches, =/X, insertions, deletions and sometimes a long N skip."""
    parts = []
    if rng.random() < 0.3:
        parts.append(f"{rng.randint(1, 5)}H")
    if rng.random() < 0.4:
        parts.append(f"{rng.randint(1, 20)}S")
    for _ in range(rng.randint(1, 4)):
        parts.append(f"{rng.randint(1, 60)}{rng.choice('MMM=X')}")
        gap = rng.random()
        if gap < 0.25:
            parts.append(f"{rng.randint(1, 8)}D")
        elif gap < 0.4:
            parts.append(f"{rng.randint(1, 6)}I")
        elif gap < 0.5:
            parts.append(f"{rng.randint(50, 3000)}N")
    parts.append(f"{rng.randint(1, 40)}M")
    if rng.random() < 0.3:
        parts.append(f"{rng.randint(1, 15)}S")
    return "".join(parts)


def query_length(cigar: str) -> int:
    segment = pysam.AlignedSegment()
    segment.cigarstring = cigar
    return segment.infer_query_length()


def make_reads(header: pysam.AlignmentHeader, n: int, seed: int, sort: bool = True) -> List[pysam.AlignedSegment]:
    rng = random.Random(seed)
    reads = []
    for index in range(n):
        ref_id = rng.choice([0, 0, 0, 1, 1, 3])
        length = CONTIGS[ref_id][1]
        cigar = random_cigar(rng)
        read = pysam.AlignedSegment(header)
        read.query_name = f"r{index}"
        read.flag = rng.choice(FLAG_CHOICES)
        read.reference_id = ref_id
        # A few reads start near the end and run off the contig.
        read.reference_start = rng.randrange(length - 60, length) if rng.random() < 0.02 else rng.randrange(0, length)
        read.mapping_quality = rng.choice([0, 5, 20, 60, 255])
        read.cigarstring = cigar
        n_bases = query_length(cigar)
        read.query_sequence = "".join(rng.choice("ACGT") for _ in range(n_bases))
        read.query_qualities = pysam.qualitystring_to_array("I" * n_bases)
        tag = rng.random()
        if tag < 0.85:
            read.set_tag("RG", rng.choice(READ_GROUPS)[0])
        elif tag < 0.9:
            read.set_tag("RG", "not-in-header")
        reads.append(read)
    if sort:
        reads.sort(key=lambda read: (read.reference_id, read.reference_start))
    return reads


def write_coverage_bam(directory: Path, name: str = "cov", n: int = 3000, seed: int = 11,
                       layout: str = "tiny_blocks", sort: bool = True) -> Path:
    """A BAM of ``n`` random reads in the named block layout; coordinate-sorted and indexed
    unless ``sort`` is False (then the same reads in generation order, not indexed)."""
    content = content_from_pysam(name, header_dict(), lambda header: make_reads(header, n, seed, sort))
    path = build_fixture(content, layout, directory, name).path
    if sort:
        pysam.index(str(path))
    return path


def samtools_depth(path: Path, *options: str) -> Dict[str, np.ndarray]:
    """``samtools depth -aa`` (every base of every contig), per contig, one column per file."""
    text = subprocess.run(["samtools", "depth", "-aa", *options, str(path)], check=True,
                          capture_output=True, text=True).stdout
    found: Dict[str, List[int]] = {}
    for line in text.splitlines():
        contig, _, depth = line.split("\t")
        found.setdefault(contig, []).append(int(depth))
    return {contig: np.asarray(values, dtype=np.int64) for contig, values in found.items()}
