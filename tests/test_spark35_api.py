"""Every public entry point on a classic session of the pyspark this environment has: the
4.x line in the main suite, the 3.5 line in CI's second environment (``-m spark35``).

Each either gives the records an independent oracle gives (pysam, samtools, the local
driver, which the full suite proves against those), or, where it needs Python data sources
(Spark >= 4), raises :class:`~sparkbam_py.errors.SparkVersionError` naming the version.
"""
from __future__ import annotations

import shutil

import numpy as np
import pyarrow.parquet as pq
import pyspark
import pysam
import pytest

import sparkbam_py
from cram_truth import our_records, truth_records
from depth_fixtures.data import CONTIGS, write_coverage_bam
from fixtures import build_fixture
from fixtures.content import short_reads
from fixtures.cram import SAMTOOLS, convert_to_cram, sq_lines, write_random_reference
from spark.engines import activate
from spark35_support import frame_table, local_table
from sparkbam_py.errors import SparkVersionError, UnsupportedFormatError
from sparkbam_py.pos import Pos
from write_helpers import sam_records

pytestmark = [pytest.mark.spark, pytest.mark.spark35]
needs_samtools = pytest.mark.skipif(SAMTOOLS is None or shutil.which("samtools") is None,
                                    reason="samtools is needed (CRAM, depth, SAM text)")
SPLIT = "40k"  # several tasks per file, so splits cut through records


@pytest.fixture
def spark():
    return activate("local").spark


@pytest.fixture(scope="module")
def bam(tmp_path_factory):
    """Coordinate-sorted and indexed: loads, intervals, coverage and writes all read it."""
    return write_coverage_bam(tmp_path_factory.mktemp("spark35-bam"), "reads", n=2000, seed=35)


@pytest.fixture(scope="module")
def pysam_names(bam):
    with pysam.AlignmentFile(str(bam)) as reads:
        return [read.query_name for read in reads.fetch(until_eof=True)]


def test_read_loaders_and_counts(spark, bam, pysam_names):
    frame = sparkbam_py.load_reads(spark, str(bam), SPLIT, columns=["query_name", "flag"])
    assert [row.query_name for row in frame.collect()] == pysam_names
    positioned = sparkbam_py.load_reads_and_positions(spark, str(bam), SPLIT, columns=["query_name"]).collect()
    positions = [row.file_position for row in positioned]
    assert len(positions) == len(pysam_names) and positions == sorted(set(positions))
    assert sparkbam_py.count_reads(spark, str(bam), SPLIT) == len(pysam_names)
    splits, reads = sparkbam_py.load_splits_and_reads(spark, str(bam), SPLIT, columns=["flag"])
    assert reads.count() == len(pysam_names) and len(splits) > 3
    assert all(left.end == right.start for left, right in zip(splits, splits[1:]))
    assert splits[-1].end == Pos(bam.stat().st_size, 0)
    assert splits == sparkbam_py.compute_splits(spark, str(bam), SPLIT)


@needs_samtools
def test_load_cram(spark, tmp_path):
    source = build_fixture(short_reads(600, seed=21), "block_aligned", tmp_path, "reads").path
    reference = write_random_reference(sq_lines(source), tmp_path / "reference.fa")
    cram = tmp_path / "reads.cram"
    assert convert_to_cram(source, cram, reference, "3.0", seqs_per_slice=40)
    frame = sparkbam_py.load_cram(spark, str(cram), "12k", reference=str(reference))
    assert our_records(frame_table(frame)) == truth_records(str(cram), str(reference))
    assert sparkbam_py.count_reads(spark, str(cram), "12k", reference=str(reference)) == 600


def test_load_intervals(spark, bam):
    region = f"{CONTIGS[0][0]}:1000-30000"
    frame = sparkbam_py.load_intervals(spark, str(bam), [region], columns=["query_name", "reference_start"])
    with pysam.AlignmentFile(str(bam)) as reads:
        expected = [(read.query_name, read.reference_start) for read in reads.fetch(region=region)]
    assert [(row.query_name, row.reference_start) for row in frame.collect()] == expected


def test_functions_over_splits(spark, bam, pysam_names):
    counted = sparkbam_py.map_partitions(spark, str(bam), lambda reads: sum(1 for _ in reads), SPLIT).collect()
    assert sum(counted) == len(pysam_names) and len(counted) > 3
    assert sparkbam_py.map_splits(spark, str(bam), lambda reads: sum(1 for _ in reads), SPLIT) == counted
    rows = sparkbam_py.map_splits(spark, str(bam), lambda batches: sum(b.num_rows for b in batches), SPLIT,
                                  records="arrow", columns=["flag"])
    assert rows == counted


def test_map_regions(spark, tmp_path):
    path, lines = indexed_vcf(tmp_path)
    got = sparkbam_py.map_regions(str(path), lambda window, rows: [row[1] for row in rows], "chr2", "2k",
                                  spark=spark)
    assert [pos for window in got for pos in window] == [line.split("\t")[1] for line in lines
                                                         if line.startswith("chr2\t")]


@needs_samtools
def test_compute_coverage_equals_the_local_driver(spark, bam, tmp_path):
    from sparkbam_py.coverage.compute import compute_coverage_local
    from sparkbam_py.coverage.store import CoverageStore

    sparkbam_py.compute_coverage(spark, str(bam), str(tmp_path / "spark"), split_size=SPLIT)
    compute_coverage_local([str(bam)], str(tmp_path / "local"), split_size=SPLIT)
    ours, local = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    for name, length in CONTIGS:
        assert np.array_equal(ours.values(name, 0, length), local.values(name, 0, length)), name


def test_text_loaders_equal_the_local_reader(spark, tmp_path):
    path, lines = indexed_vcf(tmp_path)
    for loader, options in ((sparkbam_py.load_vcf, {}), (sparkbam_py.load_vcf, {"regions": "chr2:1-2000"}),
                            (sparkbam_py.load_tabix, {}), (sparkbam_py.load_lines, {"include_header_lines": True})):
        format_name = {"load_vcf": "vcf", "load_tabix": "tabix", "load_lines": "bgzf_text"}[loader.__name__]
        got = frame_table(loader(spark, str(path), "2k", **options))
        expected = local_table(str(path), format_name, "2k", options)
        assert got.num_rows > 0 and got.to_pylist() == expected.to_pylist(), (loader.__name__, options)
    narrowed = sparkbam_py.load_vcf(spark, str(path), "2k", columns=["start", "contigName", "file_position"])
    assert narrowed.columns == ["start", "contigName", "file_position"]
    with pytest.raises(UnsupportedFormatError, match="load_bed takes BED"):
        sparkbam_py.load_bed(spark, str(path))


@pytest.mark.skipif(int(pyspark.__version__.split(".")[0]) < 4,
                    reason="a Spark 3.5 Connect server needs its connect jar from Maven")
def test_text_loaders_over_connect(tmp_path):
    """Over Spark Connect the loader functions go through the data sources: the same rows."""
    spark = activate("connect").spark
    vcf, _ = indexed_vcf(tmp_path)
    bed = tmp_path / "peaks.bed"
    bed.write_text("".join(f"{contig}\t{100 * i}\t{100 * i + 50}\tpeak{i}\n"
                           for contig in ("chr1", "chr2") for i in range(200)))
    bed = pysam.tabix_index(str(bed), preset="bed", force=True)
    for loader, path, format_name, options in (
            (sparkbam_py.load_vcf, vcf, "vcf", {"regions": "chr2:1-2000"}), (sparkbam_py.load_tabix, vcf, "tabix", {}),
            (sparkbam_py.load_lines, vcf, "bgzf_text", {}), (sparkbam_py.load_bed, bed, "bed", {})):
        got = frame_table(loader(spark, str(path), "2k", **options))
        expected = local_table(str(path), format_name, "2k", options)
        assert got.num_rows > 0 and got.to_pylist() == expected.to_pylist(), (loader.__name__, options)


def test_convert_equals_convert_local(spark, bam, tmp_path):
    result = sparkbam_py.convert(spark, str(bam), str(tmp_path / "spark"), split_size=SPLIT)
    local = sparkbam_py.convert_local(str(bam), str(tmp_path / "local"), split_size=SPLIT)
    assert result.rows == local.rows == 2000 and result.files == local.files
    assert pq.read_table(tmp_path / "spark").equals(pq.read_table(tmp_path / "local"))


@needs_samtools
def test_write_bam_round_trip(spark, bam, tmp_path):
    reads = sparkbam_py.load_reads(spark, str(bam), SPLIT)
    out = tmp_path / "out.bam"
    summary = sparkbam_py.write_bam(reads, str(out), header_from=str(bam))
    assert summary["records"] == 2000 and sam_records(out) == sam_records(bam)
    assert sparkbam_py.write_bam(reads, str(tmp_path / "arrow.bam"), header_from=str(bam), engine="arrow")


@needs_samtools
@pytest.mark.parametrize("exchange", ["files", "shuffle"])
def test_view_sort_is_samtools_sort(spark, bam, tmp_path, monkeypatch, exchange):
    """The sort's blocks go through block files (a local master) or through mapInArrow and
    repartition only (anywhere else, forced here): Spark 3.5 runs both."""
    import subprocess

    import sparkbam_py.spark.view_api as view_api

    if exchange == "shuffle":
        monkeypatch.setattr(view_api, "runs_on_this_machine", lambda session: False)
    theirs = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(theirs), str(bam)], check=True)
    out = tmp_path / "sorted.bam"
    assert sparkbam_py.view_bam(spark, str(bam), str(out), sort=True, split_size=SPLIT)["records"] == 2000
    assert sam_records(out) == sam_records(theirs)


def test_data_sources_or_the_version_they_need(spark, bam, tmp_path):
    """``register`` and ``write_bam(engine="datasource")`` need Spark 4: on 3.5 a typed error
    names it; on 4.x they work."""
    if int(spark.version.split(".")[0]) >= 4:
        sparkbam_py.register(spark)
        assert spark.read.format("bam").load(str(bam)).count() == 2000
        return
    with pytest.raises(SparkVersionError, match=rf"needs Spark >= 4\.0.*runs Spark {spark.version}"):
        sparkbam_py.register(spark)
    reads = sparkbam_py.load_reads(spark, str(bam), SPLIT)
    with pytest.raises(SparkVersionError, match='engine="arrow"'):
        sparkbam_py.write_bam(reads, str(tmp_path / "x.bam"), header_from=str(bam), engine="datasource")
    with pytest.raises(SparkVersionError):
        sparkbam_py.load_reads(spark, str(bam), method="datasource")


def indexed_vcf(directory):
    """A tabix-indexed VCF of two contigs, and its lines."""
    header = ["##fileformat=VCFv4.2", '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="genotype">',
              "##contig=<ID=chr1>", "##contig=<ID=chr2>",
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2"]
    body = [f"chr{1 + i // 600}\t{10 + 5 * (i % 600)}\t.\tA\tG\t50\tPASS\tDP={i}\tGT\t0|1\t1/1" for i in range(1200)]
    plain = directory / "calls.vcf"
    plain.write_text("\n".join(header + body) + "\n")
    return pysam.tabix_index(str(plain), preset="vcf", force=True), header + body
