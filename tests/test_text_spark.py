"""The text data sources on real engines (local[2], standalone cluster, Spark Connect):
every line once, parsed rows equal the parser run locally, region loads, header lines."""
from __future__ import annotations

import pysam
import pytest

from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.spark import api
from sparkbam_py.formats import format_named
from sparkbam_py.text.format import LineSource
from text_layouts import build_text_fixture

pytestmark = pytest.mark.spark
SAMPLES = ("s1", "s2", "s3")


def vcf_text(records: int = 3000) -> bytes:
    header = ["##fileformat=VCFv4.2", '##INFO=<ID=DP,Number=1,Type=Integer,Description="d">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">', "##contig=<ID=chr1>", "##contig=<ID=chr2>",
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES)]
    body = [f"chr{1 + i // (records // 2)}\t{100 + 7 * i}\t.\tA\tG\t50\tPASS\tDP={i}\tGT\t0|1\t1/1\t./."
            for i in range(records)]
    return ("\n".join(header + body) + "\n").encode()


@pytest.fixture(scope="module")
def vcf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vcf")
    fixture = build_text_fixture(tmp, "calls.vcf", "small", vcf_text(), empty_blocks=True)
    plain = tmp / "indexed.vcf"  # tabix_index writes indexed.vcf.gz beside it
    plain.write_bytes(vcf_text())
    indexed = pysam.tabix_index(str(plain), preset="vcf", force=True)
    return fixture, indexed


def test_bgzf_text_reads_every_line_once(spark_engine, vcf):
    fixture, _ = vcf
    spark = spark_engine.spark
    api.register(spark)
    frame = (spark.read.format("bgzf_text").option("splitSize", "3k").option("includeFilePosition", "true")
             .load(str(fixture.path)))
    rows = sorted((r.file_position, r.line) for r in frame.collect())
    data = [(p, line) for p, line in zip(fixture.positions, fixture.lines) if not line.startswith("#")]
    assert rows == data
    every = spark.read.format("bgzf_text").option("includeHeaderLines", "true").option("splitSize", "3k")
    assert every.load(str(fixture.path)).count() == len(fixture.lines)


def test_vcf_rows_equal_the_local_parser(spark_engine, vcf):
    fixture, _ = vcf
    spark = spark_engine.spark
    api.register(spark)
    rows = spark.read.format("vcf").option("splitSize", "2k").load(str(fixture.path)).orderBy("contigName", "start")
    got = [(r.contigName, r.start, r.INFO_DP, [g.calls for g in r.genotypes]) for r in rows.collect()]
    lines = [line for line in fixture.lines if not line.startswith("#")]
    header = format_named("vcf").parser.parse_header([line for line in fixture.lines if line.startswith("#")], {})
    import pyarrow as pa

    local = format_named("vcf").parser.parse(pa.array(lines), header, {}, LineSource(str(fixture.path))).to_pylist()
    assert got == [(r["contigName"], r["start"], r["INFO_DP"], [g["calls"] for g in r["genotypes"]]) for r in local]


def test_vcf_region_load_reads_overlapping_records_once(spark_engine, vcf):
    _, indexed = vcf
    spark = spark_engine.spark
    api.register(spark)
    regions = "chr1:1000-5000,chr1:4000-9000,chr2:21000-21100"
    frame = spark.read.format("vcf").option("regions", regions).option("splitSize", "1k").load(indexed)
    got = sorted((r.contigName, r.start) for r in frame.select("contigName", "start").collect())
    with pysam.TabixFile(indexed) as tabix:
        union = {(row[0], int(row[1]) - 1) for region in regions.split(",")
                 for row in tabix.fetch(region=region, parser=pysam.asTuple())}
    assert got == sorted(union) and len(got) == len(set(got))


def test_map_regions_on_spark_equals_local(spark_engine, vcf):
    from sparkbam_py import map_regions

    _, indexed = vcf
    count = lambda window, rows: sum(1 for _ in rows)  # noqa: E731 - a lambda travels too
    on_spark = map_regions(indexed, count, regions="chr1,chr2:21000-30000", window="2k", spark=spark_engine.spark)
    local = map_regions(indexed, count, regions="chr1,chr2:21000-30000", window="2k", workers=1)
    assert on_spark == local and sum(local) > 1500


def test_convert_writes_the_vcf_source_s_rows_as_parquet(spark_engine, vcf, tmp_path):
    """``convert`` on a VCF: the executors parse and write Parquet; read back, the files hold
    exactly the ``vcf`` source's rows and schema, partitioned by its contig column."""
    from sparkbam_py.spark.convert import convert

    if spark_engine.name == "standalone":
        pytest.skip("covered by local[2] and Connect (the cluster runs the same executor code)")
    fixture, indexed = vcf
    spark = spark_engine.spark
    api.register(spark)
    source = spark.read.format("vcf").option("splitSize", "2k").load(str(fixture.path))
    result = convert(spark, str(fixture.path), str(tmp_path / "out"), split_size="2k", partition_by="contigName")
    back = spark.read.parquet(str(tmp_path / "out"))
    assert result.rows == source.count() and result.files >= 2
    assert sorted(back.columns) == sorted(source.columns)
    columns = source.columns
    assert sorted(map(repr, back.select(*columns).collect())) == sorted(map(repr, source.collect()))
    samples = convert(spark, indexed, str(tmp_path / "ids"), include_sample_ids=False)
    assert samples.rows == source.count()
    assert "sampleId" not in spark.read.parquet(str(tmp_path / "ids")).schema["genotypes"].simpleString()
