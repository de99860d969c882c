"""``convert`` on real engines: the output read back by Spark equals the ``bam`` source, row for row."""
from __future__ import annotations

import json

import pytest

from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.spark.api import register
from sparkbam_py.spark.convert import convert

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CONVERTED = ("short_reads.mixed", "long_reads.block_aligned", "secondary_no_seq.tiny_blocks", "header_only.block_aligned")
SPLIT_SIZE = "16k"


@pytest.fixture
def spark(spark_engine):
    """local[2] and Spark Connect (the standalone cluster runs the same executor code)."""
    if spark_engine.name == "standalone":
        pytest.skip("covered by local[2] and Connect")
    return spark_engine.spark


@pytest.fixture(scope="module")
def bams(bam_fixtures):
    return [bam_fixtures[name].path.as_posix() for name in CONVERTED]


def comparable(frame, columns):
    """Rows as sortable tuples (a map column has no order, so its entries are sorted)."""
    from pyspark.sql import functions as F

    frame = frame.select(*columns)
    if "tags" in columns:
        frame = frame.withColumn("tags", F.array_sort(F.map_entries("tags")))
    return sorted((tuple(map(repr, row)) for row in frame.collect()))


def source_rows(spark, bams, columns):
    register(spark)
    return comparable(spark.read.format("bam").option("splitSize", SPLIT_SIZE).load(bams), columns)


def test_parquet_equals_the_bam_source(spark, bams, tmp_path):
    result = convert(spark, bams, str(tmp_path / "out"), split_size=SPLIT_SIZE)
    back = spark.read.parquet(str(tmp_path / "out"))
    columns = back.columns
    register(spark)
    assert [(f.name, f.dataType) for f in back.schema] == \
        [(f.name, f.dataType) for f in spark.read.format("bam").load(bams).schema]
    assert comparable(back, columns) == source_rows(spark, bams, columns)
    assert result.rows == len(comparable(back, ["query_name"]))
    assert (tmp_path / "out" / "_SUCCESS").is_file() and not (tmp_path / "out" / "_temporary").exists()


def test_partitioned_parquet_and_columns(spark, bams, tmp_path):
    columns = ["query_name", "reference_name", "reference_start", "tags"]
    convert(spark, bams, str(tmp_path / "out"), split_size=SPLIT_SIZE, columns=columns, partition_by="reference_name")
    back = spark.read.option("basePath", str(tmp_path / "out")).parquet(str(tmp_path / "out"))
    assert comparable(back, columns) == source_rows(spark, bams, columns)


def test_delta_table_read_by_deltalake_and_its_files_by_spark(spark, bams, tmp_path):
    deltalake = pytest.importorskip("deltalake")
    out = str(tmp_path / "table")
    convert(spark, bams, out, to="delta", split_size=SPLIT_SIZE, partition_by="reference_name")
    table = deltalake.DeltaTable(out)
    expected = source_rows(spark, bams, ["query_name", "reference_start", "flag"])
    arrow = table.to_pyarrow_table(columns=["query_name", "reference_start", "flag"])
    assert sorted(tuple(map(repr, row.values())) for row in arrow.to_pylist()) == expected
    # Spark reads Delta through the delta-spark JVM package; the table's data files it reads directly.
    files = spark.read.parquet(*table.file_uris())
    assert comparable(files, ["query_name", "reference_start", "flag"]) == expected


def test_the_command_line(spark, bams, tmp_path, capsys):
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        pytest.skip("the command starts its own local session")
    out = str(tmp_path / "cli")
    assert cli_main(["convert", *bams, "-o", out, "--columns", "query_name,flag", "-m", SPLIT_SIZE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] == len(source_rows(spark, bams, ["query_name"]))
    assert cli_main(["convert", bams[0], "-o", out, "--json"]) == 2  # the output exists: refused


def test_typed_tags_through_the_source_and_convert(spark, bams, tmp_path):
    register(spark)
    frame = spark.read.format("bam").option("tags", "NM:i,RG:Z").option("splitSize", SPLIT_SIZE).load(bams)
    assert frame.schema["typed_tags"].dataType.simpleString() == "struct<NM:bigint,RG:string>"
    for row in frame.select("tags", "typed_tags").collect():
        tags = dict(row["tags"])
        assert row["typed_tags"]["NM"] == (int(tags["NM"][2:]) if "NM" in tags else None)
        assert row["typed_tags"]["RG"] == (tags["RG"][2:] if "RG" in tags else None)
    convert(spark, bams, str(tmp_path / "out"), split_size=SPLIT_SIZE, columns=["query_name"], tags="auto")
    back = spark.read.parquet(str(tmp_path / "out"))
    discovered = spark.read.format("bam").option("tags", "auto").load(bams).select("query_name", "typed_tags")
    assert back.schema["typed_tags"].dataType == discovered.schema["typed_tags"].dataType
    assert comparable(back, ["query_name", "typed_tags"]) == comparable(discovered, ["query_name", "typed_tags"])
