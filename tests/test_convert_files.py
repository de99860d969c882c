"""The executor-side Parquet writer and the driver-side commit, without Spark."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.schema import bam_schema
from sparkbam_py.convert.commit import abort, commit, prepare_output
from sparkbam_py.convert.target import OutputTarget, partition_folder
from sparkbam_py.convert.writer import write_task
from sparkbam_py.errors import ConfigError


def batches_of(fixture):
    with open_bam(str(fixture.path)) as bam:
        names = bam.header.reference_names
        return [decode_records(c.run.data, c.offsets, names) for c in bam.iter_record_chunks()]


@pytest.fixture(scope="module")
def batches(bam_fixtures):
    return batches_of(bam_fixtures["short_reads.htsjdk"])


def data_files(folder):
    return sorted(p for p in folder.rglob("*.parquet"))


def test_a_retried_task_leaves_one_file(tmp_path, batches):
    target = OutputTarget(str(tmp_path / "out"))
    first_attempt = write_task(batches, bam_schema(), target, task_index=0)
    second_attempt = write_task(batches, bam_schema(), target, task_index=0)
    assert first_attempt[0].final != second_attempt[0].final  # attempt-unique names
    result = commit(target, "parquet", "error", bam_schema(), second_attempt)
    files = data_files(tmp_path / "out")
    assert [f.name for f in files] == [second_attempt[0].final]
    assert not (tmp_path / "out" / "_temporary").exists()
    assert (tmp_path / "out" / "_SUCCESS").is_file()
    table = pq.read_table(files[0])
    assert table.schema == bam_schema()
    assert table.equals(pa.Table.from_batches(batches))
    assert result.rows == table.num_rows == first_attempt[0].rows


def test_row_groups_are_cut_by_size_with_statistics(tmp_path, batches):
    batches = [piece for batch in batches for piece in pa.Table.from_batches([batch]).to_batches(max_chunksize=100)]
    target = OutputTarget(str(tmp_path / "out"), row_group_bytes=sum(b.nbytes for b in batches) // 3)
    written = write_task(batches, bam_schema(), target, task_index=3)
    commit(target, "parquet", "error", bam_schema(), written)
    metadata = pq.ParquetFile(data_files(tmp_path / "out")[0]).metadata
    assert metadata.num_row_groups >= 3
    position = metadata.row_group(0).column(bam_schema().get_field_index("reference_start"))
    assert position.statistics is not None and position.statistics.has_min_max
    stats = json.loads(written[0].stats)
    assert stats["numRecords"] == written[0].rows
    assert stats["minValues"]["reference_start"] == min(pa.Table.from_batches(batches)["reference_start"].to_pylist())


def test_partition_folders_follow_spark_naming():
    assert partition_folder("reference_name", "chr1") == "reference_name=chr1"
    assert partition_folder("reference_name", "HLA-A*01:01") == "reference_name=HLA-A%2A01%3A01"
    assert partition_folder("reference_name", None) == "reference_name=__HIVE_DEFAULT_PARTITION__"
    assert partition_folder("reference_name", "HLA-A*01:01", for_delta=True) == "reference_name=HLA-A_01_01"


def test_partitioned_files_hold_their_reference_only(tmp_path, batches):
    target = OutputTarget(str(tmp_path / "out"), partition_by="reference_name")
    written = write_task(batches, bam_schema(), target, task_index=0)
    commit(target, "parquet", "error", bam_schema(), written)
    whole = pa.Table.from_batches(batches)
    for file in written:
        table = pq.ParquetFile(tmp_path / "out" / file.final).read()
        assert "reference_name" not in table.column_names
        expected = [n == file.partition_value for n in whole["reference_name"].to_pylist()]
        assert table.num_rows == sum(expected) == file.rows
    assert sum(f.rows for f in written) == whole.num_rows


def test_output_modes(tmp_path, batches):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.parquet").write_bytes(b"x")
    with pytest.raises(ConfigError, match="already exists"):
        prepare_output(OutputTarget(str(out)), "parquet", "error")
    with pytest.raises(ConfigError, match="append"):
        prepare_output(OutputTarget(str(out)), "parquet", "append")
    prepare_output(OutputTarget(str(out)), "parquet", "overwrite")
    assert not out.exists()
    with pytest.raises(ConfigError, match="partition_by"):
        OutputTarget(str(out), partition_by="flag")


def test_abort_removes_the_staged_files(tmp_path, batches):
    target = OutputTarget(str(tmp_path / "out"))
    write_task(batches, bam_schema(), target, task_index=0)
    abort(target)
    assert data_files(tmp_path) == []


def test_delta_commit_is_read_by_deltalake(tmp_path, batches):
    deltalake = pytest.importorskip("deltalake")
    target = OutputTarget(str(tmp_path / "table"), "delta", partition_by="reference_name")
    written = write_task(batches, bam_schema(), target, task_index=0)
    commit(target, "delta", "error", bam_schema(), written)
    table = deltalake.DeltaTable(str(tmp_path / "table"))
    assert table.metadata().partition_columns == ["reference_name"]
    got = table.to_pyarrow_table().select(bam_schema().names)
    key = ["query_name", "flag", "reference_start"]
    whole = pa.Table.from_batches(batches)
    assert got.sort_by([(k, "ascending") for k in key]).to_pylist() == \
        whole.sort_by([(k, "ascending") for k in key]).to_pylist()
    # A second job appends in one more commit.
    again = OutputTarget(str(tmp_path / "table"), "delta", partition_by="reference_name")
    commit(again, "delta", "append", bam_schema(), write_task(batches, bam_schema(), again, task_index=0))
    assert deltalake.DeltaTable(str(tmp_path / "table")).to_pyarrow_table().num_rows == 2 * whole.num_rows


def test_parquet_layout_keeps_statistics_and_dictionaries_where_they_pay(tmp_path, batches):
    target = OutputTarget(str(tmp_path / "out"))
    commit(target, "parquet", "error", bam_schema(), write_task(batches, bam_schema(), target, task_index=0))
    metadata = pq.ParquetFile(data_files(tmp_path / "out")[0]).metadata
    columns = {metadata.schema.column(i).path: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    assert columns["reference_start"].is_stats_set and columns["query_name"].is_stats_set
    assert not columns["query_sequence"].is_stats_set and not columns["tags.key_value.key"].is_stats_set
    assert columns["reference_name"].has_dictionary_page
    assert not columns["query_qualities"].has_dictionary_page


@pytest.mark.parametrize("file_size,slots", [(288_485_882, 2), (288_485_882, 4), (10_000, 2), (100 << 20, 3)])
def test_balanced_split_size_cuts_whole_waves_of_equal_tasks(tmp_path, file_size, slots):
    from sparkbam_py.config import DEFAULT_SPLIT_SIZE
    from sparkbam_py.formats.sizing import balanced_split_size
    from sparkbam_py.split.ranges import compute_byte_ranges

    path = tmp_path / "sized.bam"
    with open(path, "wb") as handle:
        handle.truncate(file_size)  # sparse: only the size is read
    size = balanced_split_size([str(path)], slots)
    ranges = compute_byte_ranges(file_size, size)
    assert len(ranges) % slots == 0
    assert max(r.end - r.start for r in ranges) - min(r.end - r.start for r in ranges) < len(ranges)
    assert size <= DEFAULT_SPLIT_SIZE
    assert balanced_split_size([str(path)], None) is None
    assert balanced_split_size(["s3://bucket/sized.bam"], slots) is None


@pytest.mark.parametrize("file_size,slots", [(288_485_882, 2), (288_485_882, 8), (10_000, 2)])
def test_a_count_gets_one_task_per_slot(tmp_path, file_size, slots):
    from sparkbam_py.formats.sizing import count_split_size_for
    from sparkbam_py.split.ranges import compute_byte_ranges

    path = tmp_path / "sized.bam"
    with open(path, "wb") as handle:
        handle.truncate(file_size)  # sparse: only the size is read
    ranges = compute_byte_ranges(file_size, count_split_size_for(str(path), slots))
    assert len(ranges) == (slots if file_size > slots << 20 else 1)
    assert count_split_size_for(str(path), None) is None
    assert count_split_size_for(["s3://bucket/sized.bam"], slots) is None
