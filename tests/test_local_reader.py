"""``read_table`` / ``iter_batches``: the executor code without Spark, here and in worker processes."""
from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

import sparkbam_py
from fixtures.content import short_reads
from fixtures.content_special import long_reads
from fixtures.placement import build_fixture
from sparkbam_py.bam.schema import DEFAULT_COLUMNS
from sparkbam_py.errors import ConfigError, MissingInputError, RecordStartNotFoundError
from sparkbam_py.bam.columns import ColumnPlan
from sparkbam_py.spark.schemas import spark_of

SPLIT_SIZES = (3_000, 20_000, 10**9)


@pytest.fixture(scope="module")
def bams(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    return [build_fixture(short_reads(1_200, seed=21), "mixed", folder),
            build_fixture(long_reads(seed=22), "htsjdk", folder),
            build_fixture(short_reads(400, seed=23), "empty_midfile", folder)]


def positions_and_names(fixture):
    return [(pos.virtual, name) for pos, name in zip(fixture.record_pos, fixture.query_names)]


@pytest.mark.parametrize("split_size", SPLIT_SIZES)
def test_every_record_once_in_file_order_at_any_split_size(bams, split_size):
    for fixture in bams:
        table = sparkbam_py.read_table(fixture.path, ["file_position", "query_name"], split_size)
        assert list(zip(*table.to_pydict().values())) == positions_and_names(fixture), fixture.name


def test_schema_is_the_data_sources(bams):
    table = sparkbam_py.read_table(bams[0].path)
    assert table.schema == ColumnPlan.of().arrow_schema and table.column_names == list(DEFAULT_COLUMNS)
    picked = sparkbam_py.read_table(bams[0].path, ["flag", "file_path", "file_position"])
    assert picked.schema == ColumnPlan.of(["flag", "file_path", "file_position"]).arrow_schema
    assert set(picked.column("file_path").to_pylist()) == {str(bams[0].path)}


def test_lists_directories_and_globs_as_the_data_source_does(bams, tmp_path):
    for fixture in bams[:2]:
        shutil.copy(fixture.path, tmp_path / fixture.path.name)
    by_dir = sparkbam_py.read_table(tmp_path, ["query_name", "file_path"], 20_000)
    by_glob = sparkbam_py.read_table(str(tmp_path / "*.bam"), ["query_name", "file_path"], 20_000)
    by_list = sparkbam_py.read_table(sorted(tmp_path.glob("*.bam")), ["query_name", "file_path"], 20_000)
    assert by_dir.equals(by_glob) and by_dir.equals(by_list)
    expected = sorted(bams[:2], key=lambda fixture: fixture.path.name)
    assert by_dir.column("query_name").to_pylist() == [n for f in expected for n in f.query_names]


def test_iter_batches_streams_split_by_split(bams):
    batches = sparkbam_py.iter_batches(bams[0].path, ["file_position"], 3_000)
    first = next(batches)
    assert isinstance(first, pa.RecordBatch) and first.num_rows < bams[0].n_records
    rest = list(batches)
    offsets = [v for batch in [first] + rest for v in batch.column(0).to_pylist()]
    assert offsets == [pos.virtual for pos in bams[0].record_pos]


@pytest.mark.slow
def test_two_worker_processes_give_the_same_table(bams):
    paths = [fixture.path for fixture in bams]
    here = sparkbam_py.read_table(paths, None, 5_000, workers=1)
    there = sparkbam_py.read_table(paths, None, 5_000, workers=2)
    assert there.equals(here) and here.num_rows == sum(f.n_records for f in bams)


@pytest.mark.slow
def test_worker_errors_come_back_typed(bams, tmp_path):
    """A split whose records chain past what the next split finds: the boundary check's error,
    pickled back from the worker with its path and position."""
    data = bytearray(bams[0].path.read_bytes())
    bad = tmp_path / "short.bam"
    bad.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(sparkbam_py.SparkBamError) as caught:
        sparkbam_py.read_table(bad, ["query_name"], 3_000, workers=2)
    assert caught.value.path == str(bad)


def test_a_killed_worker_is_a_typed_error_not_fewer_records(bams):
    import multiprocessing
    import os
    import signal

    from sparkbam_py.errors import WorkerLostError

    batches = sparkbam_py.iter_batches(bams[0].path, ["query_name"], 3_000, workers=2)
    next(batches)
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(WorkerLostError) as caught:
        list(batches)
    assert caught.value.path == str(bams[0].path)


def test_bad_arguments_are_typed_errors(bams, tmp_path):
    with pytest.raises(MissingInputError):
        sparkbam_py.read_table(tmp_path / "absent.bam")
    with pytest.raises(ConfigError):
        sparkbam_py.read_table(bams[0].path, workers=0)
    with pytest.raises(ConfigError):
        sparkbam_py.read_table(bams[0].path, ["no_such_column"])
    with pytest.raises(TypeError):
        sparkbam_py.read_table(bams[0].path, reads_to_chek=3)


def test_options_reach_the_executor_code(bams):
    long_fixture = bams[1]
    table = sparkbam_py.read_table(long_fixture.path, ["query_name"], 3_000, reads_to_check=2,
                                   bgzf_blocks_to_check=2, verify_checksums=False, use_splitting_index=False)
    assert table.column(0).to_pylist() == long_fixture.query_names
    # A search allowed to try one position cannot find a start inside a long read.
    with pytest.raises(RecordStartNotFoundError):
        sparkbam_py.read_table(long_fixture.path, ["query_name"], 3_000, max_read_size=1)


@pytest.mark.slow
def test_same_table_as_spark_read_format_bam(bams):
    """The data source on local Spark and read_table: same rows, same values, same order."""
    from spark.engines import activate

    spark = activate("local").spark
    sparkbam_py.register(spark)
    path = str(bams[0].path)
    frame = spark.read.format("bam").option("splitSize", "5000").load(path)
    expected = sparkbam_py.read_table(path, None, 5_000)
    assert frame.toArrow().cast(expected.schema).equals(expected)
    narrow = ["query_name", "file_position", "file_path"]
    expected = sparkbam_py.read_table(path, narrow, 5_000)
    frame = (spark.read.format("bam").schema(spark_of(ColumnPlan.of(narrow).arrow_schema))
             .option("splitSize", "5000").load(path))
    assert frame.toArrow().cast(expected.schema).equals(expected)
