"""``load_intervals`` on real Spark engines: the same reads as pysam fetch, one Spark
partition per planned partition, and the region-overlap behaviour across partitions."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from sparkbam_py.index.regions import Region
from sparkbam_py.intervals import plan_interval_partitions
from index_oracle import CORPUS, GENERATED_REFS, open_with_pysam, write_indexed_bam
from spark.engines import activate, spark_engine  # noqa: F401  (engines shared by the Spark tests)
from test_intervals_oracle import PysamOracle, as_text, random_region_sets
from test_intervals_typed_tags import tagged  # noqa: F401  (the tagged BAM fixture)

pytestmark = pytest.mark.spark

CORPUS_FILES = [
    "hammerlab__spark-bam/test-bams__src__main__resources__2.bam",
    "hammerlab__guacamole/src__test__resources__gatk_mini_bundle_extract.bam",
    "GMOD__bam-js/test__data__ecoli_nanopore.bam",
]


@pytest.fixture
def spark():
    """The shared local[2] engine (one engine runs at a time: ask for it in each test)."""
    return activate("local").spark


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("spark_intervals") / "gen.bam", GENERATED_REFS, 6_000, seed=41)


def spark_read_ids(df):
    return [(row.file_position, row.query_name) for row in df.collect()]


def check_file(spark, bam: Path, index: Path, seed: int, count: int = 3) -> None:
    from sparkbam_py.spark.intervals import load_intervals

    with open_with_pysam(bam, index) as handle:
        oracle = PysamOracle(handle)
        names, lengths = handle.references, handle.lengths
        for i, regions in enumerate(random_region_sets(oracle, lengths, random.Random(seed), count)):
            query = as_text(regions, names)
            df = load_intervals(spark, str(bam), query, split_size=[None, 30_000][i % 2],
                                columns=["query_name"], with_file_position=True)
            got = spark_read_ids(df)
            assert len(got) == len(set(got)), query
            assert sorted(got) == oracle.union(regions), query


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_files_match_fetch(spark, name):
    bam = CORPUS / name
    if not bam.is_file():
        pytest.skip(f"{bam} not found (corpus absent)")
    check_file(spark, bam, Path(str(bam) + ".bai"), seed=5)


def test_generated_matches_fetch_on_every_engine(spark_engine, generated):
    """local[2], a standalone cluster (tasks in other processes) and Spark Connect (no RDDs)."""
    check_file(spark_engine.spark, generated, Path(str(generated) + ".bai"), seed=6, count=4)


def test_one_spark_partition_per_planned_partition(spark, generated):
    from sparkbam_py.spark.intervals import load_intervals

    planned = plan_interval_partitions(generated, ["chr1", "chr3"], split_size=20_000)
    assert len(planned) >= 4
    df = load_intervals(spark, str(generated), ["chr1", "chr3"], split_size=20_000, columns=["reference_name"])
    assert df.rdd.getNumPartitions() == len(planned)
    per_partition = df.rdd.glom().map(len).collect()
    assert all(count > 0 for count in per_partition)  # the whole-contig reads spread over them
    with open_with_pysam(generated, Path(str(generated) + ".bai")) as handle:
        expected = PysamOracle(handle).union([Region(0, "chr1", 0, 2_000_000), Region(3, "chr3", 0, 5_000_000)])
    assert sum(per_partition) == len(expected)


def test_schema_projection_and_empty_result(spark, generated):
    from sparkbam_py.spark.intervals import load_intervals

    df = load_intervals(spark, str(generated), "empty", columns=["query_name", "reference_start", "cigar"])
    assert df.columns == ["query_name", "reference_start", "cigar"]
    assert df.count() == 0
    full = load_intervals(spark, str(generated), "chr2:1-50000")
    row = full.first()
    assert row.reference_name == "chr2" and row.reference_start < 50_000 and row.query_sequence


# -- the wiring a Python data source needs (a minimal probe, not the project's "bam" source) -----


def probe_source_class():
    """A data source using exactly the functions the ``bam`` format's read (``formats/bam.py``) calls:
    ``split_intervals`` for the option, ``regions_from_filters`` in ``pushFilters``,
    ``plan_interval_partitions`` in ``partitions``, ``read_interval_partition`` in ``read``."""
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

    from sparkbam_py.bam.file import open_bam
    from sparkbam_py.bam.schema import spark_ddl
    from sparkbam_py.intervals import (
        plan_interval_partitions,
        read_interval_partition,
        regions_from_filters,
        split_intervals,
    )

    columns = ["query_name", "reference_name", "reference_start"]

    class IntervalProbeReader(DataSourceReader):
        def __init__(self, options):
            self.path = options["path"]
            self.regions = split_intervals(options["intervals"]) if "intervals" in options else None
            self.split_size = options.get("split_size")

        def pushFilters(self, filters):
            filters = list(filters)
            with open_bam(self.path) as bam:
                regions = regions_from_filters(filters, bam.header)
            if regions is not None and self.regions is None:
                self.regions = regions
            return filters  # the regions select a superset: Spark applies every filter still

        def partitions(self):
            planned = plan_interval_partitions(self.path, self.regions or [], self.split_size)
            return [InputPartition(p) for p in planned] or [InputPartition(None)]

        def read(self, partition):
            if partition.value is not None:
                yield from read_interval_partition(partition.value, columns, with_file_position=True)

    class IntervalProbe(DataSource):
        @classmethod
        def name(cls):
            return "bam_interval_probe"

        def schema(self):
            return spark_ddl(columns, with_file_position=True)

        def reader(self, schema):
            return IntervalProbeReader(self.options)

    return IntervalProbe


@pytest.fixture
def probe(spark):
    spark.dataSource.register(probe_source_class())
    previous = spark.conf.get("spark.sql.python.filterPushdown.enabled")
    spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")  # off by default in 4.x
    yield "bam_interval_probe"
    spark.conf.set("spark.sql.python.filterPushdown.enabled", previous)


def test_pushed_filters_use_the_index(spark, probe, generated):
    import pysam

    where = "reference_name = 'chr1' AND reference_start >= 100000 AND reference_start < 400000"
    df = spark.read.format(probe).option("split_size", "20000").load(str(generated)).where(where)
    got = sorted((row.query_name, row.reference_start) for row in df.collect())
    with pysam.AlignmentFile(str(generated)) as handle:
        expected = sorted((r.query_name, r.reference_start) for r in handle.fetch(until_eof=True)
                          if r.reference_name == "chr1" and 100_000 <= r.reference_start < 400_000)
    assert got == expected and expected
    # The index narrowed the scan: partitions of chr1's [100000, 400000) only, not the file.
    scanned = spark.read.format(probe).option("split_size", "20000").load(str(generated)).where(where)
    assert scanned.rdd.getNumPartitions() < len(plan_interval_partitions(generated, ["chr1", "chr2", "chr3"], 20_000))


def test_intervals_option(spark, probe, generated):
    df = spark.read.format(probe).option("intervals", "chr2:1,000-200,000,*").load(str(generated))
    got = sorted((row.file_position, row.query_name) for row in df.collect())
    with open_with_pysam(generated, Path(str(generated) + ".bai")) as handle:
        assert got == PysamOracle(handle).union([Region(1, "chr2", 999, 200_000), Region(-1, "*", 0, 0)])


def test_data_source_intervals_option(spark, generated):
    """``spark.read.format("bam").option("intervals", ...)`` reads exactly what pysam fetches."""
    import sparkbam_py

    sparkbam_py.register(spark)
    with open_with_pysam(generated, Path(str(generated) + ".bai")) as handle:
        oracle = PysamOracle(handle)
        names, lengths = handle.references, handle.lengths
        for regions in random_region_sets(oracle, lengths, random.Random(8), 3):
            query = as_text(regions, names)
            df = (spark.read.format("bam").option("intervals", ",".join(query))
                  .option("splitSize", "40k").schema("query_name string, file_position bigint")
                  .load(str(generated)))
            got = spark_read_ids(df)
            assert len(got) == len(set(got)) and sorted(got) == oracle.union(regions), query
        one_base = spark.read.format("bam").option("intervals", "chr1:1-1").load(str(generated))
        assert one_base.count() == len(oracle.union([Region(0, "chr1", 0, 1)]))


@pytest.fixture
def pushdown_source(spark):
    """The real ``bam`` source with filter pushdown, put back to the plain one afterwards."""
    import sparkbam_py
    from sparkbam_py.spark.source_names import PUSHDOWN_CONF

    previous = spark.conf.get(PUSHDOWN_CONF)
    sparkbam_py.register(spark, pushdown=True)
    yield "bam"
    sparkbam_py.register(spark)
    spark.conf.set(PUSHDOWN_CONF, previous)


def test_data_source_pushes_filters_to_the_index(spark, pushdown_source, generated):
    import pysam

    where = "reference_name = 'chr1' AND reference_start >= 100000 AND reference_start < 400000"

    def load():
        return spark.read.format(pushdown_source).option("splitSize", "20000").load(str(generated)).where(where)

    got = sorted((row.query_name, row.reference_start) for row in load().collect())
    with pysam.AlignmentFile(str(generated)) as handle:
        expected = sorted((r.query_name, r.reference_start) for r in handle.fetch(until_eof=True)
                          if r.reference_name == "chr1" and 100_000 <= r.reference_start < 400_000)
    assert got == expected and expected
    whole_file = spark.read.format(pushdown_source).option("splitSize", "20000").load(str(generated))
    assert load().rdd.getNumPartitions() < whole_file.rdd.getNumPartitions()
    # Filters the index cannot use read everything, and still filter correctly.
    flagged = whole_file.where("flag = 99").count()
    with pysam.AlignmentFile(str(generated)) as handle:
        assert flagged == sum(1 for r in handle.fetch(until_eof=True) if r.flag == 99)


def test_data_source_intervals_with_typed_tags(spark, tagged):
    """``option("tags", ...)`` with ``intervals``: the typed struct of exactly pysam's reads."""
    import pysam

    import sparkbam_py
    from test_intervals_typed_tags import SPEC, whole_file_typed

    sparkbam_py.register(spark)
    df = (spark.read.format("bam").option("intervals", "chrA:1000-30000,chrB:5000-9000").option("tags", SPEC)
          .option("splitSize", "20k").load(str(tagged)).select("query_name", "typed_tags"))
    got = {row.query_name: row.typed_tags.asDict(recursive=True) for row in df.collect()}
    with pysam.AlignmentFile(str(tagged)) as bam:
        expected = {read.query_name for region in ("chrA:1000-30000", "chrB:5000-9000")
                    for read in bam.fetch(region=region)}
    truth = whole_file_typed(tagged)
    assert set(got) == expected and got == {name: truth[name] for name in expected}
