"""Every BGZF block's CRC32 is checked by default, on every read path, and can be turned off.

The corruptions here keep deflate happy (a CRC32 field changed, or a byte of a stored
block's data), so the CRC32 is the only thing that can notice: without it the records
come back changed, with it the read fails naming the path, the block and both checksums.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from fixtures.content import short_reads
from fixtures.placement import build_fixture
from sparkbam_py import read_table
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.constants import TRAILER_SIZE
from sparkbam_py.bgzf.header import parse_block_header
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.errors import ConfigError, CorruptBlockError, IndexFormatError
from sparkbam_py.index.csi import inflate_bgzf
from sparkbam_py.intervals import plan_interval_partitions, read_interval_partition
from sparkbam_py.bam.options import ReadOptions
from sparkbam_py.bam.splits import SplitReader, plan_file
from index_oracle import GENERATED_REFS, write_indexed_bam

SPLIT_SIZE = 40_000
READ_COMMANDS = ("check-bam", "check-blocks", "compare-splits", "compute-splits", "count-reads", "full-check",
                 "index-records", "index-sbi", "time-load")


def block_starts(data: bytes):
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        pos += parse_block_header(data, pos, i=pos).block_size
    return starts


def with_bad_crc(source: Path, target: Path, block_index: int) -> int:
    """``source`` copied to ``target`` with block ``block_index``'s CRC32 field changed; its start."""
    data = bytearray(source.read_bytes())
    start = block_starts(bytes(data))[block_index]
    crc_at = start + parse_block_header(bytes(data), start, i=start).block_size - TRAILER_SIZE
    struct.pack_into("<I", data, crc_at, struct.unpack_from("<I", data, crc_at)[0] ^ 0x00010000)
    target.write_bytes(bytes(data))
    return start


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("crc") / "gen.bam", GENERATED_REFS, 3_000, seed=9)


@pytest.fixture(scope="module")
def bad_crc(indexed, tmp_path_factory):
    """The indexed BAM with a mid-file block's CRC32 wrong, its .bai beside it; the block's start."""
    target = tmp_path_factory.mktemp("bad") / "bad.bam"
    middle = len(block_starts(indexed.read_bytes())) // 2
    start = with_bad_crc(indexed, target, middle)
    target.with_suffix(".bam.bai").write_bytes(indexed.with_suffix(".bam.bai").read_bytes())
    return target, start


def assert_names_the_block(error, path: Path, start: int):
    assert error.path == str(path) and error.compressed_offset == start
    assert "CRC32 mismatch" in str(error)
    assert str(error).count("0x") == 2  # the trailer's and the data's checksums, in hex


def test_read_table_fails_on_a_wrong_crc_and_reads_it_when_told_not_to_check(indexed, bad_crc):
    bad, start = bad_crc
    with pytest.raises(CorruptBlockError) as caught:
        read_table(bad, ["query_name"], SPLIT_SIZE)
    assert_names_the_block(caught.value, bad, start)
    unchecked = read_table(bad, ["query_name"], SPLIT_SIZE, verify_checksums=False)
    assert unchecked.equals(read_table(indexed, ["query_name"], SPLIT_SIZE))


def test_split_search_and_count_check_every_block(bad_crc):
    bad, start = bad_crc
    _, tasks = plan_file(str(bad), SPLIT_SIZE)
    owner = next(task for task in tasks if task.range.start <= start < task.range.end)
    with SplitReader(owner) as split, pytest.raises(CorruptBlockError) as caught:
        split.count()
    assert_names_the_block(caught.value, bad, start)
    _, unchecked = plan_file(str(bad), SPLIT_SIZE, config=ReadOptions.of(verify_checksums=False).config)
    assert all(SplitReader(task).count() >= 0 for task in unchecked)


def test_open_bam_walk_checks_and_can_skip(bad_crc, indexed):
    bad, start = bad_crc
    with open_bam(bad) as bam, pytest.raises(CorruptBlockError) as caught:
        bam.count_records()
    assert_names_the_block(caught.value, bad, start)
    with open_bam(bad, verify_checksums=False) as bam, open_bam(indexed) as good:
        assert bam.count_records() == good.count_records()


def test_interval_reads_check_and_can_skip(bad_crc, indexed):
    bad, start = bad_crc

    def names(path, **options):
        partitions = plan_interval_partitions(str(path), ["chr1", "chr2", "*"], **options)
        return [name for partition in partitions
                for batch in read_interval_partition(partition, ["query_name"])
                for name in batch.column(0).to_pylist()]

    with pytest.raises(CorruptBlockError):
        names(bad)
    assert names(bad, verify_checksums=False) == names(indexed)


def test_csi_blocks_are_checked(tmp_path):
    csi = write_indexed_bam(tmp_path / "c.bam", GENERATED_REFS, 500, seed=3, index_args=("-c",))
    good = Path(f"{csi}.csi")
    bad = tmp_path / "bad.csi"
    with_bad_crc(good, bad, 0)
    with pytest.raises(IndexFormatError, match="CRC32 mismatch"):
        inflate_bgzf(bad.read_bytes(), str(bad))
    assert inflate_bgzf(bad.read_bytes(), str(bad), verify_checksums=False) == inflate_bgzf(good.read_bytes())


def test_a_changed_byte_in_a_stored_block_is_caught_only_by_the_crc(tmp_path):
    """The case deflate cannot see: a level-0 block's data is stored as is."""
    fixture = build_fixture(short_reads(300, seed=4), "level0", tmp_path)
    name = fixture.query_names[150]
    data = bytearray(fixture.path.read_bytes())
    at = data.index(name.encode() + b"\0")
    data[at] ^= 0x01  # one letter of one read name
    changed = tmp_path / "changed.bam"
    changed.write_bytes(bytes(data))
    with pytest.raises(CorruptBlockError, match="CRC32 mismatch"):
        read_table(changed, ["query_name"])
    unchecked = read_table(changed, ["query_name"], verify_checksums=False).column(0).to_pylist()
    assert unchecked != fixture.query_names and len(unchecked) == len(fixture.query_names)


def test_data_source_option_and_keyword():
    assert ReadOptions.from_options({"verifyChecksums": "false"}).config.verify_checksums is False
    assert ReadOptions.from_options({}).config.verify_checksums is True
    options = ReadOptions.of(verify_checksums=False)
    assert ReadOptions.from_options(options.to_options()) == options
    with pytest.raises(ConfigError, match="verifyChecksums"):
        ReadOptions.from_options({"verifychecksums": "maybe"})


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_every_reading_command_takes_the_flag(command, capsys):
    with pytest.raises(SystemExit):
        cli_main([command, "--help"])
    assert "--no-verify-checksums" in capsys.readouterr().out


def test_a_command_fails_with_the_block_named_and_passes_without_the_check(bad_crc, tmp_path, capsys):
    bad, start = bad_crc
    assert cli_main(["index-records", str(bad), str(tmp_path / "r.records")]) == 2
    assert f"compressed byte {start}" in capsys.readouterr().err
    assert cli_main(["index-records", "--no-verify-checksums", str(bad), str(tmp_path / "r.records")]) == 0


@pytest.mark.slow
def test_the_data_source_checks_by_default_and_takes_the_option(indexed, bad_crc):
    from spark.engines import activate

    from sparkbam_py import register

    spark = activate("local").spark
    register(spark)
    bad, start = bad_crc
    reader = spark.read.format("bam").option("splitSize", str(SPLIT_SIZE))
    with pytest.raises(Exception, match=f"CorruptBlockError.*compressed byte {start}.*CRC32 mismatch"):
        reader.load(str(bad)).select("query_name").collect()
    unchecked = reader.option("verifyChecksums", "false").load(str(bad)).select("query_name").collect()
    assert [row[0] for row in unchecked] == read_table(indexed, ["query_name"]).column(0).to_pylist()
