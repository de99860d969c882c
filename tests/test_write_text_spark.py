"""Writing VCF/BED through real Spark engines: both engines, sort, the data sources and their
options, tasks killed and retried (standalone), and Spark Connect.

Grouped by engine so each engine starts once (see ``spark.engines``).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from spark.engines import activate
from test_write_spark import _kill_first_attempt  # the BAM writer's: kills each partition's first attempt
from write_text_support import index_disagreements, make_vcf, records, regions_of, text_lines

import sparkbam_py
from sparkbam_py.errors import ConfigError
from sparkbam_py.write.text_commit import UnsortedOutputError

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return make_vcf(tmp_path_factory.mktemp("write-text-spark") / "in.vcf.gz", 4000)


def load(spark, path, split_size="6k"):
    sparkbam_py.register(spark)
    return spark.read.format("vcf").option("splitSize", split_size).load(str(path))


def bcftools_records(path) -> str:
    return subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True, check=True).stdout


def assert_same_variants(out, source, tmp_path):
    assert bcftools_records(out) == bcftools_records(source)
    assert index_disagreements(Path(out), ["-p", "vcf"], tmp_path, regions_of(text_lines(out)[1], 1, 2)) == []


def test_local_both_engines_sort_and_refusal(source, tmp_path):
    spark = activate("local").spark
    variants = load(spark, source)
    assert variants.rdd.getNumPartitions() > 3
    for engine in ("datasource", "arrow"):
        out = tmp_path / f"{engine}.vcf.gz"
        sparkbam_py.write_vcf(variants, str(out), header_from=str(source), engine=engine)
        assert_same_variants(out, source, tmp_path)
    from pyspark.sql import functions as F

    shuffled = variants.orderBy(F.rand(11))
    for engine in ("datasource", "arrow"):
        with pytest.raises(UnsortedOutputError, match="appears again|comes after"):
            sparkbam_py.write_vcf(shuffled, str(tmp_path / f"refused-{engine}.vcf.gz"), header_from=str(source),
                                  engine=engine)
        out = tmp_path / f"sorted-{engine}.vcf.gz"
        sparkbam_py.write_vcf(shuffled, str(out), header_from=str(source), sort=True, engine=engine, partitions=3)
        assert_same_variants(out, source, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.name.startswith("refused")]


def test_local_default_write_reads_the_header_once(source, tmp_path, monkeypatch):
    """``engine="auto"`` on a classic session commits here (``mapInArrow``), and ``headerFrom``
    is read once on the driver: the line writer built for the batch sizes is the job's."""
    from sparkbam_py.formats import text_write

    reads = []
    read_file_header = text_write.read_file_header
    monkeypatch.setattr(text_write, "read_file_header", lambda *a, **k: reads.append(a) or read_file_header(*a, **k))
    variants = load(activate("local").spark, source)
    out = tmp_path / "auto.vcf.gz"
    sparkbam_py.write_vcf(variants, str(out), header_from=str(source))
    assert len(reads) == 1
    assert_same_variants(out, source, tmp_path)


def test_local_writes_cut_arrow_batches_by_rows_and_restore_the_setting(source, tmp_path):
    from pyspark.sql import functions as F

    from sparkbam_py.spark.arrow_handoff import (MAX_BYTES_PER_BATCH, MAX_RECORDS_PER_BATCH, UNCHECKED_BYTES,
                                                 rows_only_batches, rows_per_batch)

    assert [rows_per_batch(n, 10_000) for n in (0, 3, 10, 100, 10**6)] == [None, None, None, 1000, 1000]
    assert rows_per_batch(100, 500) is None  # a session asking for smaller batches keeps them
    spark = activate("local").spark
    spark.conf.set(MAX_BYTES_PER_BATCH, "32MB")
    try:
        with rows_only_batches(spark):
            assert spark.conf.get(MAX_BYTES_PER_BATCH) == UNCHECKED_BYTES
            assert spark.conf.get(MAX_RECORDS_PER_BATCH) == "10000"
        with rows_only_batches(spark, 100):  # a 100-sample VCF's lines
            assert spark.conf.get(MAX_RECORDS_PER_BATCH) == "1000"
        assert spark.conf.get(MAX_BYTES_PER_BATCH) == "32MB"
        assert spark.conf.get(MAX_RECORDS_PER_BATCH) == "10000"
        spark.conf.unset(MAX_BYTES_PER_BATCH)
        with pytest.raises(UnsortedOutputError):
            sparkbam_py.write_vcf(load(spark, source).orderBy(F.rand(11)), str(tmp_path / "x.vcf.gz"),
                                  header_from=str(source))
        assert spark.conf.get(MAX_BYTES_PER_BATCH, None) is None  # restored after a failed write too
    finally:
        spark.conf.unset(MAX_BYTES_PER_BATCH)


def test_local_data_source_options_and_modes(source, tmp_path):
    spark = activate("local").spark
    variants = load(spark, source)
    out = tmp_path / "shards"
    # Spark allows Python data sources "append" and "overwrite" only; append to nothing creates it.
    variants.write.format("vcf").option("sharded", "true").mode("append").save(str(out))  # header from the schema
    variants.write.format("vcf").option("sharded", "true").mode("append").save(str(out))
    shards = sorted(p for p in out.iterdir() if p.name.endswith(".vcf.gz"))
    assert len(shards) % 2 == 0 and len(shards) > 2  # one per partition with rows, twice
    assert all(Path(str(shard) + ".tbi").exists() for shard in shards)
    first_write = [record for shard in shards[:len(shards) // 2] for record in records("vcf", shard)]
    assert first_write == records("vcf", source)
    # write_bam's compression keywords reach the part writers; a bad one is refused before Spark runs
    plain, fast = tmp_path / "plain.vcf.gz", tmp_path / "fast.vcf.gz"
    sparkbam_py.write_vcf(variants, str(plain), header_from=str(source))
    sparkbam_py.write_vcf(variants, str(fast), header_from=str(source), deflate="isal", compression_level=1)
    assert bcftools_records(fast) == bcftools_records(source)
    assert fast.stat().st_size > plain.stat().st_size
    with pytest.raises(ConfigError, match="deflate"):
        sparkbam_py.write_vcf(variants, str(tmp_path / "bad.vcf.gz"), deflate="gzip")
    beds = spark.createDataFrame([("chr2", 5, 9, "b"), ("chr1", 1, 3, "a")], "chrom string, start long, end long, name string")
    beds.write.format("bed").option("sort", "true").option("contigs", "chr2,chr1").mode("overwrite") \
        .save(str(tmp_path / "x.bed.gz"))
    assert text_lines(tmp_path / "x.bed.gz")[1] == ["chr2\t5\t9\tb", "chr1\t1\t3\ta"]


def test_standalone_killed_tasks_leave_one_copy_of_every_variant(source, tmp_path):
    spark = activate("standalone").spark
    variants = load(spark, source, "3k")
    markers = tmp_path / "markers"
    markers.mkdir()
    dying = variants.mapInArrow(_kill_first_attempt(str(markers)), variants.schema)
    for engine in ("datasource", "arrow"):
        for marker in markers.iterdir():
            marker.unlink()
        out = tmp_path / f"{engine}.vcf.gz"
        sparkbam_py.write_vcf(dying, str(out), header_from=str(source), engine=engine)
        assert any(markers.iterdir()), "no task was killed"
        assert_same_variants(out, source, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_connect_function_and_data_source(source, tmp_path):
    spark = activate("connect").spark
    variants = load(spark, source)
    out = tmp_path / "connect.vcf.gz"
    sparkbam_py.write_vcf(variants, str(out), header_from=str(source))
    assert_same_variants(out, source, tmp_path)
    variants.write.format("vcf").option("headerFrom", str(source)).mode("overwrite").save(str(out))
    assert_same_variants(out, source, tmp_path)
    out = tmp_path / "sorted.vcf.gz"
    from pyspark.sql import functions as F

    sparkbam_py.write_vcf(variants.orderBy(F.rand(2)), str(out), header_from=str(source), sort=True, engine="arrow")
    assert_same_variants(out, source, tmp_path)
