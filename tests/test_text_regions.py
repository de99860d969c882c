"""Tabix region loads equal the union of pysam's ``TabixFile.fetch`` over the regions, each
record once, on every corpus file whose index works (``tabix_ok=yes``), for random region
sets; and the ``.tbi``/``.csi`` header parses as htslib reads it."""
from __future__ import annotations

import csv
import random
import warnings
from pathlib import Path

import pysam
import pytest

from sparkbam_py.errors import ConfigError, IndexFormatError
from sparkbam_py.index.tabix import TBX_UCSC, find_tabix_path, parse_tabix, read_tabix
from sparkbam_py.text.regions import iter_region_lines, plan_region_partitions

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"


def indexed_rows():
    if not (CORPUS_TEXT / "MANIFEST.tsv").is_file():
        return []
    with open(CORPUS_TEXT / "MANIFEST.tsv", newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["tabix_ok"] == "yes"]


ROWS = indexed_rows()
needs_corpus = pytest.mark.skipif(not ROWS, reason="bgzipped-text corpus not found (expected ../shared/corpus-text)")


def random_regions(rng, tabix_file, config, contigs):
    regions = []
    for _ in range(rng.randint(1, 4)):
        contig = rng.choice(contigs)
        rows = list(tabix_file.fetch(contig, parser=pysam.asTuple()))
        if not rows or rng.random() < 0.2:
            regions.append(contig)
            continue
        row = rng.choice(rows)
        begin = int(row[config.col_beg - 1]) + (1 if config.format & TBX_UCSC else 0)
        start = max(1, begin + rng.randint(-2000, 50))
        regions.append(f"{contig}:{start}-{start + rng.choice([0, 1, 30, 5000, 10 ** 7])}")
    return regions


def pysam_union(tabix_file, regions, contigs):
    """The union of the regions' fetches, each record once, in file order."""
    whole = {}
    marked = {}
    for region in regions:
        contig = region.split(":")[0]
        records = whole.setdefault(contig, list(tabix_file.fetch(contig)))
        taken, j = marked.setdefault(contig, set()), 0
        for line in tabix_file.fetch(region=region):
            while records[j] != line:  # identical lines are identical records (same position)
                j += 1
            taken.add(j)
            j += 1
    return [whole[c][i] for c in contigs if c in whole for i in sorted(marked[c])]


def region_lines(path, regions, split_size):
    return [line for partition in plan_region_partitions(path, regions, split_size)
            for _, lines in iter_region_lines(partition) for line in lines.to_pylist()]


@needs_corpus
@pytest.mark.corpus
@pytest.mark.slow
def test_region_loads_equal_the_union_of_pysam_fetches():
    rng = random.Random(10)
    failures = []
    for row in ROWS:
        path = str(CORPUS_TEXT / row["file"])
        index_path = find_tabix_path(path)
        config = read_tabix(index_path).config
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tabix_file = pysam.TabixFile(path, index=index_path, encoding="utf-8")
            contigs = [c for c in tabix_file.contigs if c != "*"]
            for _ in range(1 if contigs else 0):
                regions = random_regions(rng, tabix_file, config, contigs)
                truth = pysam_union(tabix_file, regions, contigs)
                for size in (700, 1 << 30):
                    got = region_lines(path, ",".join(regions), size)
                    if got != truth:
                        failures.append(f"{row['file']} {regions} split {size}: {len(got)} lines, pysam {len(truth)}")
    assert not failures, "\n".join(failures[:20])


@needs_corpus
def test_tabix_headers_match_htslib():
    for row in ROWS[:60]:
        path = str(CORPUS_TEXT / row["file"])
        index_path = find_tabix_path(path)
        tabix = read_tabix(index_path)
        with pysam.TabixFile(path, index=index_path) as tabix_file:
            assert list(tabix.names) == list(tabix_file.contigs), row["file"]
        assert f"seq={tabix.config.col_seq},beg={tabix.config.col_beg},end={tabix.config.col_end}" in row["notes"]
        assert f"meta='{tabix.config.meta}',skip={tabix.config.skip}" in row["notes"]


def test_generated_index_overlapping_regions_read_once(tmp_path):
    path = tmp_path / "x.bed"
    lines = [f"chr{1 + i % 2}\t{i * 100}\t{i * 100 + 150}\tname{i}" for i in range(4000)]
    lines.sort(key=lambda line: (line.split("\t")[0], int(line.split("\t")[1])))
    path.write_text("#comment\n" + "\n".join(lines) + "\n")
    compressed = pysam.tabix_index(str(path), preset="bed", force=True)
    regions = "chr1:1000-50000,chr1:20000-90000,chr2:5000-5100,chr2"
    with pysam.TabixFile(compressed) as tabix_file:
        truth = pysam_union(tabix_file, regions.split(","), list(tabix_file.contigs))
    for size in (300, 5000, 1 << 30):
        assert region_lines(compressed, regions, size) == truth


def test_missing_index_and_unknown_sequence_are_clear_errors(tmp_path):
    path = tmp_path / "x.bed"
    path.write_text("chr1\t1\t2\n")
    compressed = pysam.tabix_index(str(path), preset="bed", force=True)
    with pytest.raises(ConfigError, match="unknown reference"):
        plan_region_partitions(compressed, "chrQ:1-10")
    bare = tmp_path / "y.bed.gz"
    bare.write_bytes(Path(compressed).read_bytes())
    with pytest.raises(ConfigError, match="no tabix index"):
        plan_region_partitions(str(bare), "chr1")


def test_corrupt_index_is_an_index_error():
    with pytest.raises(IndexFormatError, match="neither"):
        parse_tabix(b"NOPE" + bytes(40))
    with pytest.raises(IndexFormatError):
        parse_tabix(b"TBI\x01" + bytes(6))
