"""The small files the documentation's examples read, made on the spot.

Every page's examples name the same few files in their working directory (``sample.bam``,
``a.bam``, ``sample.cram``, ``calls.vcf.gz``...), and the same on a loopback S3 server
(``s3://bucket/sample.bam``, ``s3://bucket/run/*.bam``...). pysam writes the content; the
files are small, so every example runs in about a second.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Dict, List

import pysam

from sparkbam_py.cli.demo import CONTIGS, write_demo_bam

BUCKET = "bucket"
SAMPLES = ("NA12878", "NA12891", "NA12892")
VCF_CONTIGS = (("chr20", 64_444_167), ("chr21", 46_709_983))


def make_example_files(folder: Path) -> Dict[str, str]:
    """Writes every file the examples read into ``folder``; returns S3 key -> local file."""
    for name, pairs, seed in (("sample.bam", 600, 7), ("a.bam", 300, 11), ("b.bam", 300, 13)):
        write_demo_bam(folder / name, pairs, seed)
        pysam.index(str(folder / name))
    shutil.copy(folder / "sample.bam", folder / "in.bam")
    pysam.index(str(folder / "in.bam"))
    (folder / "runs").mkdir()
    for name in ("b.bam", "b.bam.bai"):
        shutil.copy(folder / name, folder / "runs" / name)
    (folder / "bams.txt").write_text(f"{folder / 'sample.bam'}\n{folder / 'a.bam'}\n")
    _write_reference(folder / "ref.fa")
    _write_cram(folder / "sample.bam", folder / "ref.fa", folder / "sample.cram")
    _write_vcf(folder / "calls.vcf")
    _write_gff(folder / "genes.gff3")
    for name, seed in (("a.bed", 1), ("b.bed", 2)):
        _write_bed(folder / name, seed)
    _write_depth(folder / "depth.tsv")
    _write_coverage_inputs(folder)
    return {
        "sample.bam": "sample.bam", "sample.bam.bai": "sample.bam.bai",
        "run/a.bam": "a.bam", "run/a.bam.bai": "a.bam.bai", "run/b.bam": "b.bam", "run/b.bam.bai": "b.bam.bai",
        "sample.cram": "sample.cram", "sample.cram.crai": "sample.cram.crai",
        "GRCh38.fa": "ref.fa", "GRCh38.fa.fai": "ref.fa.fai",
    }


def _write_reference(path: Path) -> None:
    rng = random.Random(1)
    with open(path, "w") as out:
        for name, length in CONTIGS:
            sequence = "".join(rng.choice("ACGT") for _ in range(length))
            out.write(f">{name}\n")
            out.writelines(sequence[i:i + 60] + "\n" for i in range(0, length, 60))
    pysam.faidx(str(path))


def _write_cram(bam: Path, reference: Path, cram: Path) -> None:
    """The BAM's reads as CRAM 3; ``@SQ UR`` names the FASTA, so htslib finds it unaided."""
    with pysam.AlignmentFile(str(bam)) as source:
        header = source.header.to_dict()
        for sequence in header["SQ"]:
            sequence["UR"] = str(reference.resolve())
        with pysam.AlignmentFile(str(cram), "wc", header=header, reference_filename=str(reference)) as out:
            for read in source:
                out.write(read)
    pysam.index(str(cram))


def _bgzip_and_index(path: Path, **tabix) -> None:
    pysam.tabix_compress(str(path), f"{path}.gz", force=True)
    pysam.tabix_index(f"{path}.gz", force=True, **tabix)
    path.unlink()


def _write_vcf(path: Path) -> None:
    rng = random.Random(3)
    lines: List[str] = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in VCF_CONTIGS]
    lines += ['##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
              '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
              "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *SAMPLES])]
    for contig, _ in VCF_CONTIGS:
        position = 0
        for index in range(1000):
            position += rng.randrange(1, 9000)
            ref, alt = rng.sample("ACGT", 2)
            calls = "\t".join(f"{rng.choice(('0/0', '0/1', '1|1', './.'))}:{rng.randrange(5, 60)}" for _ in SAMPLES)
            lines.append(f"{contig}\t{position}\trs{index}\t{ref}\t{alt}\t{rng.randrange(10, 99)}\tPASS\t"
                         f"DP={rng.randrange(20, 200)};AF=0.{rng.randrange(1, 99):02d}\tGT:DP\t{calls}")
    path.write_text("\n".join(lines) + "\n")
    _bgzip_and_index(path, preset="vcf")


def _write_gff(path: Path) -> None:
    lines = ["##gff-version 3"]
    for index in range(200):
        start = 1000 + index * 1200
        gene = f"gene{index}"
        lines.append(f"chr1\tdemo\tgene\t{start}\t{start + 900}\t.\t+\t.\tID={gene};Name=G{index}")
        lines.append(f"chr1\tdemo\texon\t{start}\t{start + 300}\t.\t+\t.\tParent={gene}")
    path.write_text("\n".join(lines) + "\n")
    _bgzip_and_index(path, preset="gff")


def _write_bed(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    starts = sorted(rng.randrange(0, 240_000) for _ in range(300))
    path.write_text("".join(f"chr1\t{s}\t{s + rng.randrange(50, 500)}\tpeak{i}\t{rng.randrange(1000)}\t+\n"
                            for i, s in enumerate(starts)))
    _bgzip_and_index(path, preset="bed")


def _write_depth(path: Path) -> None:
    rng = random.Random(5)
    rows = ["#chrom\tpos\tdepth"]
    rows += [f"{contig}\t{pos}\t{rng.randrange(60)}" for contig, length in CONTIGS[:2]
             for pos in range(1, length, 97)]
    path.write_text("\n".join(rows) + "\n")
    _bgzip_and_index(path, seq_col=0, start_col=1, end_col=1, meta_char="#")


def _write_coverage_inputs(folder: Path) -> None:
    (folder / "in.bedgraph").write_text("".join(f"chr1\t{s}\t{s + 100}\t{s % 7}\n" for s in range(0, 5000, 100)))
    rows = ["contig\tposition\tstrand\tS1\tS2"]
    rows += [f"chr2\t{p}\t{'+-'[p % 2]}\t{p % 11}\t{p % 5}" for p in range(1, 2000, 3)]
    (folder / "table.tsv").write_text("\n".join(rows) + "\n")

