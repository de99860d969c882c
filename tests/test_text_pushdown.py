"""Filters on the contig and start columns become tabix regions (a superset of the rows)."""
from __future__ import annotations

import pysam
from pyspark.sql.datasource import EqualTo, GreaterThanOrEqual, In, LessThan

from sparkbam_py.index.tabix import read_tabix
from sparkbam_py.spark.sources import PUSHDOWN_SOURCES
from sparkbam_py.text.filters import regions_from_text_filters


def indexed_bed(tmp_path):
    path = tmp_path / "x.bed"
    lines = [f"chr{c}\t{i * 10}\t{i * 10 + 25}" for c in (1, 2) for i in range(2000)]
    path.write_text("\n".join(lines) + "\n")
    return pysam.tabix_index(str(path), preset="bed", force=True)


def test_filters_become_regions(tmp_path):
    tabix = read_tabix(indexed_bed(tmp_path) + ".tbi")
    assert regions_from_text_filters([], "chrom", "start", tabix) is None
    regions = regions_from_text_filters([EqualTo(("chrom",), "chr2"), GreaterThanOrEqual(("start",), 100),
                                         LessThan(("start",), 200)], "chrom", "start", tabix)
    assert regions == ["chr2:101-200"]
    assert regions_from_text_filters([In(("chrom",), ["chr9"])], "chrom", "start", tabix) == []
    assert regions_from_text_filters([GreaterThanOrEqual(("start",), 5), LessThan(("start",), 5)],
                                     "chrom", "start", tabix) == []


def test_pushdown_reader_reads_only_matching_regions(tmp_path):
    path = indexed_bed(tmp_path)
    source_class = PUSHDOWN_SOURCES["bed"]
    source = source_class.__new__(source_class)
    source.options = {"path": path, "splitSize": "1k"}
    reader = source.reader(None)
    filters = [EqualTo(("chrom",), "chr1"), GreaterThanOrEqual(("start",), 1000), LessThan(("start",), 1100)]
    assert reader.pushFilters(filters) == filters  # Spark still applies them all
    rows = [row for partition in reader.partitions() for batch in reader.read(partition)
            for row in zip(batch.column("chrom").to_pylist(), batch.column("start").to_pylist())]
    # Every matching row, and only rows overlapping [1000, 1100] (the superset Spark filters).
    assert {("chr1", s) for s in range(1000, 1100, 10)} <= set(rows)
    assert all(chrom == "chr1" and 1000 - 25 < start < 1100 for chrom, start in rows)
