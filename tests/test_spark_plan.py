"""Driver-side planning without a JVM: paths, options, columns, sessions' environment."""
from __future__ import annotations

import os
import pickle
import shutil
import sys

import pyarrow as pa
import pytest
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

from sparkbam_py.bam.schema import DEFAULT_COLUMNS, bam_schema
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import ConfigError, MissingInputError
from sparkbam_py.spark import session
from sparkbam_py.bam.batches import read_record_batches
from sparkbam_py.bam.columns import ColumnPlan
from sparkbam_py.bam.options import ReadOptions
from sparkbam_py.bam.pysam_split import pysam_path
from sparkbam_py.formats.bam import plan_reads
from sparkbam_py.formats.paths import expand_paths, paths_from_options
from sparkbam_py.spark.schemas import arrow_of


@pytest.fixture()
def bam_dir(bam_fixtures, tmp_path):
    for name in ("short_reads.block_aligned", "long_reads.htsjdk"):
        shutil.copy(bam_fixtures[name].path, tmp_path / f"{name}.bam")
    (tmp_path / "short_reads.block_aligned.bam.bai").write_bytes(b"index, not a BAM")
    (tmp_path / ".hidden.bam").write_bytes(b"")
    (tmp_path / "_temporary.bam").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    return tmp_path


# -- paths ---------------------------------------------------------------------------------


def test_a_directory_gives_its_visible_bam_files_in_order(bam_dir):
    expected = [str(bam_dir / "long_reads.htsjdk.bam"), str(bam_dir / "short_reads.block_aligned.bam")]
    assert expand_paths(str(bam_dir)) == expected
    assert expand_paths(bam_dir) == expected  # a pathlib.Path too


def test_globs_lists_and_repeats(bam_dir):
    short = str(bam_dir / "short_reads.block_aligned.bam")
    assert expand_paths(str(bam_dir / "short*")) == [short]  # the .bai matches the glob but is not a BAM
    long = str(bam_dir / "long_reads.htsjdk.bam")
    assert expand_paths([short, str(bam_dir / "*.bam"), short]) == [short, long]  # first-seen order, once each


def test_urls_are_listed_through_fsspec_and_http_is_taken_as_is(bam_dir):
    listed = expand_paths(bam_dir.as_uri())
    assert [url.rsplit("/", 1)[-1] for url in listed] == ["long_reads.htsjdk.bam", "short_reads.block_aligned.bam"]
    assert all(url.startswith("file://") for url in listed)
    assert expand_paths(bam_dir.as_uri() + "/long*.bam") == listed[:1]
    assert expand_paths("http://127.0.0.1:9/any/*.bam") == ["http://127.0.0.1:9/any/*.bam"]


def test_missing_inputs_are_named(bam_dir):
    for missing in (str(bam_dir / "nope.bam"), str(bam_dir / "nope*.bam"), str(bam_dir / "sub"),
                    (bam_dir / "nope.bam").as_uri()):
        with pytest.raises(MissingInputError) as error:
            expand_paths(missing)
        assert "nope" in str(error.value) or "sub" in str(error.value)
    with pytest.raises(ConfigError):
        expand_paths([])


def test_paths_arrive_from_load_as_path_or_json_list(bam_dir):
    one = str(bam_dir / "long_reads.htsjdk.bam")
    assert paths_from_options({"path": one}) == [one]
    assert paths_from_options({"paths": f'["{one}", "{one}"]'}) == [one]
    with pytest.raises(ConfigError, match="no path"):
        paths_from_options({})


# -- options -------------------------------------------------------------------------------


def test_options_read_like_spark_options():
    options = ReadOptions.from_options({"SplitSize": "64m", "readsToCheck": "7", "maxReadSize": "1000",
                                        "bgzfBlocksToCheck": "3", "verifySplits": "false", "path": "x"})
    assert options == ReadOptions(64 << 20, CheckerConfig(7, 1000, 3), verify=False)
    assert ReadOptions.from_options(options.to_options()) == options
    assert ReadOptions.of() == ReadOptions() and ReadOptions.of("128MB").split_size == 128 << 20
    assert pickle.loads(pickle.dumps(options)) == options


@pytest.mark.parametrize("bad", [{"splitSize": "big"}, {"readsToCheck": "0"}, {"maxReadSize": "x"},
                                 {"verifySplits": "maybe"}, {"splitsize ": "1m"}, {"readToCheck": "5"}])
def test_bad_options_are_refused_with_a_reason(bad):
    with pytest.raises(ConfigError):
        ReadOptions.from_options(bad)


def test_tasks_carry_the_options(bam_dir):
    tasks = plan_reads(str(bam_dir), ReadOptions.of("20k", reads_to_check=4, verify_splits=False))
    assert {task.path for task in tasks} == set(expand_paths(str(bam_dir)))
    assert all(task.config.reads_to_check == 4 and not task.verify for task in tasks)
    assert all(task.range.end - task.range.start <= 22_528 for task in tasks)


# -- columns -------------------------------------------------------------------------------


def test_the_default_plan_is_the_decoder_schema():
    plan = ColumnPlan.of()
    assert plan.arrow_schema.equals(bam_schema()) and plan.record_columns == DEFAULT_COLUMNS
    with_positions = ColumnPlan.of(["query_name"], with_file_position=True)
    assert with_positions.arrow_schema.names == ["query_name", "file_position"]
    assert pickle.loads(pickle.dumps(with_positions)) == with_positions


def test_a_user_schema_may_relax_nulls_but_not_types_or_invent_not_null():
    relaxed = StructType([StructField("file_path", StringType()), StructField("flag", IntegerType()),
                          StructField("file_position", LongType())])
    plan = ColumnPlan.from_arrow_schema(arrow_of(relaxed))
    assert plan.record_columns == ("flag",) and plan.with_file_path and plan.with_file_position
    assert all(field.nullable for field in plan.arrow_schema)
    with pytest.raises(ConfigError, match="flag"):
        ColumnPlan.from_arrow_schema(arrow_of(StructType([StructField("flag", LongType())])))
    with pytest.raises(ConfigError, match="can be null"):
        ColumnPlan.from_arrow_schema(arrow_of(StructType([StructField("cigar", StringType(), nullable=False)])))
    with pytest.raises(ConfigError, match="unknown column"):
        ColumnPlan.from_arrow_schema(arrow_of(StructType([StructField("seq", StringType())])))
    with pytest.raises(ConfigError):
        ColumnPlan.of([])


def test_executor_batches_have_exactly_the_plan_schema(bam_fixtures):
    fixture = bam_fixtures["secondary_no_seq.htsjdk"]
    relaxed = StructType([StructField("file_path", StringType()), StructField("query_sequence", StringType()),
                          StructField("file_position", LongType())])
    plan = ColumnPlan.from_arrow_schema(arrow_of(relaxed))
    tasks = plan_reads(str(fixture.path), ReadOptions.of("10k"))
    batches = [batch for task in tasks for batch in read_record_batches(task, plan)]
    assert all(batch.schema.equals(plan.arrow_schema) for batch in batches)
    table = pa.Table.from_batches(batches)
    assert table.column("file_position").to_pylist() == [pos.virtual for pos in fixture.record_pos]
    assert set(table.column("file_path").to_pylist()) == {str(fixture.path)}


# -- executors: pysam and the environment ----------------------------------------------------


def test_pysam_gets_paths_htslib_can_open():
    assert pysam_path("/data/x.bam") == "/data/x.bam"
    assert pysam_path("file:///data/x.bam") == "/data/x.bam"
    assert pysam_path("https://host/x.bam") == "https://host/x.bam"
    assert pysam_path("s3://bucket/x.bam") == "s3://bucket/x.bam"
    with pytest.raises(ConfigError, match="hdfs"):
        pysam_path("hdfs://namenode/x.bam")


def test_sessions_point_executors_at_this_python_and_loopback(monkeypatch):
    for name in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_LOCAL_IP"):
        monkeypatch.delenv(name, raising=False)
    assert session.prepare_environment() == sys.executable
    assert os.environ["PYSPARK_PYTHON"] == sys.executable and os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/python")
    assert session.prepare_environment() == "/opt/python"


def test_what_the_data_source_ships_pickles(bam_dir):
    """Spark pickles the reader and each partition to the executors (cloudpickle by reference)."""
    from sparkbam_py.formats.bam import BAM
    from sparkbam_py.spark.sources import FormatReader, SplitsReader

    options = {"path": str(bam_dir), "splitSize": "20k"}
    columns = ColumnPlan.of(["query_name"], with_file_position=True).arrow_schema
    reader = FormatReader(BAM.open_read(options, columns))
    copy = pickle.loads(pickle.dumps(reader))
    assert copy.format_read.plan == reader.format_read.plan and copy.format_read.options == reader.format_read.options
    partitions = reader.partitions()
    assert [p.task for p in pickle.loads(pickle.dumps(partitions))] == [p.task for p in partitions]
    assert partitions[0].value == 0
    splits_reader = pickle.loads(pickle.dumps(SplitsReader(BAM, dict(options, count="true"))))
    row = next(splits_reader.read(partitions[0]))
    assert row[:3] == (partitions[0].task.path, 0, 20 * 1024) and row[4] > 0
    with pytest.raises(ConfigError):
        BAM.open_read(dict(options, count="true"), columns)  # "count" belongs to bam_splits only
