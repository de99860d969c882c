"""``convert_local``: the Spark conversion run by local threads gives the same table, commits
the same way, and fails with the same typed errors."""
from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkbam_py import convert_local, read_table
from sparkbam_py.errors import ConfigError, SparkBamError


def sorted_rows(table: pa.Table) -> pa.Table:
    keys = [name for name in ("query_name", "flag", "reference_start") if name in table.schema.names]
    return table.sort_by([(name, "ascending") for name in keys])


@pytest.mark.parametrize("name", ["short_reads.htsjdk", "long_reads.htsjdk", "short_reads.block_aligned"])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_parquet_table_equals_read_table(tmp_path, bam_fixtures, name, workers):
    path = str(bam_fixtures[name].path)
    result = convert_local(path, tmp_path / "out", workers=workers, split_size=20_000)
    written = pq.read_table(tmp_path / "out")
    expected = read_table(path)
    assert (tmp_path / "out" / "_SUCCESS").is_file() and not (tmp_path / "out" / "_temporary").exists()
    assert written.schema == expected.schema
    assert result.rows == written.num_rows == expected.num_rows
    assert sorted_rows(written).equals(sorted_rows(expected))


def test_partitions_delta_and_columns(tmp_path, bam_fixtures):
    deltalake = pytest.importorskip("deltalake")
    path = str(bam_fixtures["short_reads.htsjdk"].path)
    columns = ["query_name", "reference_name", "reference_start"]
    convert_local(path, tmp_path / "parts", workers=2, columns=columns, partition_by="reference_name")
    parts = pq.read_table(tmp_path / "parts")
    assert sorted(parts.column("query_name").to_pylist()) == sorted(read_table(path, columns).column(0).to_pylist())
    convert_local(path, str(tmp_path / "delta"), workers=2, to="delta", columns=columns)
    table = deltalake.DeltaTable(str(tmp_path / "delta")).to_pyarrow_table()
    assert sorted_rows(table).equals(sorted_rows(read_table(path, columns)))


def test_an_existing_output_is_refused_and_options_are_checked(tmp_path, bam_fixtures):
    path = str(bam_fixtures["short_reads.htsjdk"].path)
    convert_local(path, tmp_path / "out")
    with pytest.raises(ConfigError):
        convert_local(path, tmp_path / "out")
    convert_local(path, tmp_path / "out", mode="overwrite", workers=2)
    for bad in (0, 1.5, True):
        with pytest.raises(ConfigError, match="workers"):
            convert_local(path, tmp_path / "other", workers=bad)


def test_a_corrupt_split_fails_typed_and_leaves_nothing_staged(tmp_path, bam_fixtures):
    source = bam_fixtures["short_reads.htsjdk"].path
    damaged = tmp_path / "damaged.bam"
    shutil.copy(source, damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(SparkBamError):
        convert_local(str(damaged), tmp_path / "out", workers=2, split_size=20_000)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.parquet"))
