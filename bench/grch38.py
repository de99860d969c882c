"""GRCh38's reference dictionary as analysis-set BAMs carry it, for human-sized bench data.

The 25 primary sequences (chr1..22, X, Y, M) have their real names and lengths: GRCh38
(GCA_000001405.15), as UCSC's ``hg38.chrom.sizes`` and the ``.fai`` of NCBI's
``GRCh38_no_alt_analysis_set`` list them (162 Mb for chr20-22, 3.1 Gb in all).

Analysis sets add a few thousand short sequences after them.  1000 Genomes'
``GRCh38_full_analysis_set_plus_decoy_hla`` (3,366 sequences) adds 169 unlocalized and
unplaced scaffolds, chrEBV, 261 ALT haplotypes, 2,385 decoys and 525 HLA alleles.
:func:`analysis_set_extras` makes that many sequences in those name patterns with seeded,
plausible lengths (not the real ones: what matters here is their number, their names'
shapes, ``*`` and ``:`` in HLA names included, and that they are short).
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

PRIMARY: Tuple[Tuple[str, int], ...] = (
    ("chr1", 248_956_422), ("chr2", 242_193_529), ("chr3", 198_295_559), ("chr4", 190_214_555),
    ("chr5", 181_538_259), ("chr6", 170_805_979), ("chr7", 159_345_973), ("chr8", 145_138_636),
    ("chr9", 138_394_717), ("chr10", 133_797_422), ("chr11", 135_086_622), ("chr12", 133_275_309),
    ("chr13", 114_364_328), ("chr14", 107_043_718), ("chr15", 101_991_189), ("chr16", 90_338_345),
    ("chr17", 83_257_441), ("chr18", 80_373_285), ("chr19", 58_617_616), ("chr20", 64_444_167),
    ("chr21", 46_709_983), ("chr22", 50_818_468), ("chrX", 156_040_895), ("chrY", 57_227_415),
    ("chrM", 16_569),
)
CHR_EBV = ("chrEBV", 171_823)
# (count, pattern, length range in bp) per class of the full analysis set, in its order.
EXTRA_CLASSES = (
    (169, "scaffold", (1_000, 200_000)),
    (261, "alt", (5_000, 600_000)),
    (2_385, "decoy", (1_000, 60_000)),
    (525, "hla", (2_500, 7_500)),
)
HLA_GENES = ("A", "B", "C", "DPA1", "DPB1", "DQA1", "DQB1", "DRB1", "DRB3", "DRB4", "DRB5")


def analysis_set_extras(count: int, seed: int = 38) -> List[Tuple[str, int]]:
    """Up to 3,341 non-primary sequences (chrEBV first), in the analysis set's proportions."""
    rng = np.random.default_rng(seed)
    full = 1 + sum(number for number, _, _ in EXTRA_CLASSES)
    if count <= 0:
        return []
    extras = [CHR_EBV]
    for number, kind, (low, high) in EXTRA_CLASSES:
        number = int(round(number * (count - 1) / (full - 1)))
        lengths = np.exp(rng.uniform(np.log(low), np.log(high), number)).astype(np.int64)
        extras += [(_extra_name(kind, i, rng), int(length)) for i, length in enumerate(lengths)]
    return extras[:count]


def _extra_name(kind: str, i: int, rng: np.random.Generator) -> str:
    chromosome = PRIMARY[i % 24][0]
    if kind == "scaffold":
        return f"{chromosome}_KI27{i:04d}v1_random" if i % 3 else f"chrUn_GL00{i:04d}v1"
    if kind == "alt":
        return f"{chromosome}_KI27{5000 + i:04d}v1_alt"
    if kind == "decoy":
        return f"chrUn_JTFH01{i + 1:06d}v1_decoy"
    gene = HLA_GENES[i % len(HLA_GENES)]
    fields = rng.integers(1, 99, 4)
    return f"HLA-{gene}*{fields[0]:02d}:{fields[1]:02d}:{fields[2]:02d}:{fields[3]:02d}"


def reference_dictionary(extra_contigs: int, seed: int = 38) -> List[Tuple[str, int]]:
    """Primary sequences, then ``extra_contigs`` analysis-set-like ones; names made unique."""
    contigs = list(PRIMARY) + analysis_set_extras(extra_contigs, seed)
    seen, unique = set(), []
    for name, length in contigs:
        while name in seen:  # two HLA alleles drawn alike: a suffix keeps SN unique
            name += "_2"
        seen.add(name)
        unique.append((name, length))
    return unique
