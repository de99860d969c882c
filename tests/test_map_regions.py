"""``map_regions``: windows balanced by bytes, rows as pysam's asTuple rows, each record once."""
from __future__ import annotations

import pysam
import pytest

from sparkbam_py import map_regions


def rows_of(window, rows):
    return [tuple(row) for row in rows]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    path = tmp_path_factory.mktemp("mr") / "x.bed"
    lines = [f"chr{c}\t{i * 50}\t{i * 50 + 120}\tf{c}_{i}" for c in (1, 2, 3) for i in range(3000)]
    path.write_text("#header\n" + "\n".join(lines) + "\n")
    return pysam.tabix_index(str(path), preset="bed", force=True)


def test_whole_file_in_windows_equals_iteration(indexed):
    with pysam.TabixFile(indexed) as tabix:
        truth = [tuple(row) for contig in tabix.contigs for row in tabix.fetch(contig, parser=pysam.asTuple())]
    for workers in (1, 2):
        results = map_regions(indexed, rows_of, window="20k", workers=workers)
        assert len(results) > 2
        assert [row for rows in results for row in rows] == truth


def test_regions_give_the_union_of_fetches_once(indexed):
    regions = ["chr1:1000-40000", "chr1:30000-60000", "chr3:100-200"]
    with pysam.TabixFile(indexed) as tabix:
        seen, truth = set(), []
        for contig in tabix.contigs:
            for row in tabix.fetch(contig, parser=pysam.asTuple()):
                fields = tuple(row)
                begin, end = int(fields[1]), int(fields[2])
                if any(c == contig and begin < e and end > b - 1
                       for c, b, e in (("chr1", 1000, 40000), ("chr1", 30000, 60000), ("chr3", 100, 200))):
                    truth.append(fields)
        fetched = [tuple(row) for region in regions for row in tabix.fetch(region=region, parser=pysam.asTuple())]
    assert set(fetched) == set(truth)
    results = map_regions(indexed, lambda window, rows: [tuple(r) for r in rows], regions=regions,
                          window="4k", workers=2)
    assert [row for rows in results for row in rows] == truth
