"""Write a deterministic, realistic multi-sample VCF, bgzipped (``bgzip``) and tabix-indexed.

    python bench/make_vcf.py OUT.vcf.gz --size-mb 200 --samples 100 [--seed 7]

The content looks like a joint-called cohort: 22 contigs, sorted positions, rsIDs on some
sites, ~12% multi-allelic sites (up to 3 ALT alleles) and some indels, QUAL and FILTER with
missing values, INFO with Integer/Float/Flag/String keys of Number 1/A/0, and per sample
``GT:AD:DP:GQ:PL`` (Number R and G arrays, phased and unphased calls, missing calls).
``--size-mb`` is the target *compressed* size: the row count comes from compressing a
first chunk, so the same arguments always give the same bytes.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

CHUNK_ROWS = 2000
VOCABULARY = 1 << 12  # distinct sample strings per allele count: keeps entropy realistic
CONTIGS = [(f"chr{i}", 250_000_000 - i * 8_000_000) for i in range(1, 23)]
BASES = np.array(list("ACGT"))

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##FILTER=<ID=VQSRTrancheSNP99.90to100.00,Description="Truth sensitivity tranche level">
##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=MQ,Number=1,Type=Float,Description="RMS mapping quality">
##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">
##INFO=<ID=VT,Number=1,Type=String,Description="Variant type">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled genotype likelihoods">
"""


def sample_vocabulary(rng: np.random.Generator, alts: int) -> list:
    """Distinct per-sample strings for sites with ``alts`` ALT alleles."""
    alleles = alts + 1
    genotypes = alleles * (alleles + 1) // 2
    words = []
    for _ in range(VOCABULARY):
        kind = rng.random()
        if kind < 0.03:
            words.append("./.:0,0:0:.:." if alts == 1 else "./." + ":" + ",".join(["0"] * alleles) + ":0:.:.")
            continue
        a, b = sorted(rng.integers(0, alleles, 2) if rng.random() < 0.5 else (0, 0))
        separator = "|" if rng.random() < 0.2 else "/"
        depth = rng.integers(0, 60, alleles)
        pl = rng.integers(0, 2000, genotypes)
        pl[rng.integers(0, genotypes)] = 0
        words.append(f"{a}{separator}{b}:{','.join(map(str, depth))}:{depth.sum()}:"
                     f"{rng.integers(0, 100)}:{','.join(map(str, pl))}")
    return words


def header_text(samples: int) -> str:
    contigs = "".join(f"##contig=<ID={name},length={length}>\n" for name, length in CONTIGS)
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"
    names = "".join(f"\tS{i:05d}" for i in range(samples))
    return HEADER + contigs + columns + names + "\n"


class SiteWriter:
    """Generates data lines chunk by chunk from one seeded generator."""

    def __init__(self, seed: int, samples: int, total_rows: int):
        self.rng = np.random.default_rng(seed)
        self.samples = samples
        self.vocab = {alts: sample_vocabulary(self.rng, alts) for alts in (1, 2, 3)}
        self.rows_per_contig = max(1, total_rows // len(CONTIGS) + 1)
        self.row = 0

    def chunk(self, rows: int) -> str:
        rng = self.rng
        out = []
        alts = np.where(rng.random(rows) < 0.12, rng.integers(2, 4, rows), 1)
        picks = rng.integers(0, VOCABULARY, (rows, self.samples))
        for i in range(rows):
            contig, length = CONTIGS[min(self.row // self.rows_per_contig, len(CONTIGS) - 1)]
            step = length // (self.rows_per_contig + 1)
            pos = 1 + (self.row % self.rows_per_contig) * step + int(rng.integers(0, max(1, step // 2)))
            out.append(self._site(contig, pos, int(alts[i]), picks[i]))
            self.row += 1
        return "".join(out)

    def _site(self, contig: str, pos: int, alts: int, picks: np.ndarray) -> str:
        rng = self.rng
        ref = "".join(BASES[rng.integers(0, 4, 1 + (rng.random() < 0.1) * int(rng.integers(1, 6)))])
        alt = ",".join("".join(BASES[rng.integers(0, 4, 1 + (rng.random() < 0.1) * int(rng.integers(1, 4)))])
                       for _ in range(alts))
        ident = f"rs{int(rng.integers(1, 10**9))}" if rng.random() < 0.4 else "."
        qual = "." if rng.random() < 0.02 else f"{rng.random() * 5000:.2f}"
        filt = rng.choice(["PASS", "PASS", "PASS", "LowQual", ".", "VQSRTrancheSNP99.90to100.00"])
        ac = ",".join(str(int(x)) for x in rng.integers(1, 200, alts))
        af = ",".join(f"{x:.4g}" for x in rng.random(alts))
        info = (f"AC={ac};AF={af};AN={2 * self.samples};DP={int(rng.integers(100, 9000))};"
                f"MQ={rng.random() * 60:.2f}" + (";DB" if ident != "." else "")
                + f";VT={'SNP' if len(ref) == 1 else 'INDEL'}")
        vocab = self.vocab[alts]
        genotypes = "\t".join([vocab[k] for k in picks])
        return f"{contig}\t{pos}\t{ident}\t{ref}\t{alt}\t{qual}\t{filt}\t{info}\tGT:AD:DP:GQ:PL\t{genotypes}\n"


def rows_for_size(seed: int, samples: int, size_bytes: int) -> int:
    """Rows needed to reach ``size_bytes`` compressed, from a zlib-compressed probe chunk."""
    probe = SiteWriter(seed, samples, CHUNK_ROWS * len(CONTIGS)).chunk(CHUNK_ROWS // 4)
    per_row = len(zlib.compress(probe.encode(), 6)) / (CHUNK_ROWS // 4)
    return max(1, int(size_bytes / per_row))


def write_vcf(out: Path, size_mb: float, samples: int, seed: int) -> int:
    """Write ``out`` (bgzipped) and ``out.tbi``; returns the number of data lines."""
    total = rows_for_size(seed, samples, int(size_mb * 1024 * 1024))
    writer = SiteWriter(seed, samples, total)
    with open(out, "wb") as sink:
        bgzip = subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=sink)
        bgzip.stdin.write(header_text(samples).encode())
        done = 0
        while done < total:
            rows = min(CHUNK_ROWS, total - done)
            bgzip.stdin.write(writer.chunk(rows).encode())
            done += rows
        bgzip.stdin.close()
        if bgzip.wait() != 0:
            raise SystemExit("bgzip failed")
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=200.0, help="target compressed size")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows = write_vcf(args.out, args.size_mb, args.samples, args.seed)
    print(f"{args.out}: {rows} data lines, {args.samples} samples, "
          f"{args.out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
