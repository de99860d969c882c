"""Byte ranges, split tasks and their travel to executors, and positions beside empty blocks."""
from __future__ import annotations

import pickle
import shutil

import pytest

from spark.oracle import assert_same_records, split_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import ConfigError, InputIOError
from sparkbam_py.pos import Pos
from sparkbam_py.bam.splits import (
    ByteRange, Split, SplitReader, SplitTask, compute_byte_ranges, htslib_pos, physical_pos, plan_file,
    splits_from_starts,
)


# -- byte ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize("file_size", [1, 99, 100, 109, 110, 111, 1000, 1234, 100_003])
@pytest.mark.parametrize("split_size", [1, 7, 100, 1000])
def test_ranges_tile_the_file_and_only_the_last_is_longer(file_size, split_size):
    ranges = compute_byte_ranges(file_size, split_size)
    assert ranges[0].start == 0 and ranges[-1].end == file_size
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:]))
    assert all(r.end - r.start == split_size for r in ranges[:-1])
    # Hadoop's slop: the remainder joins the last range unless it exceeds 10% of a split.
    assert 0 < ranges[-1].end - ranges[-1].start <= max(split_size * 1.1, file_size if len(ranges) == 1 else 0)


def test_split_sizes_read_like_spark_bam():
    assert compute_byte_ranges(3 * 2**20, "1m") == [ByteRange(i * 2**20, (i + 1) * 2**20) for i in range(3)]
    assert compute_byte_ranges(2**28, "128MB") == [ByteRange(0, 2**27), ByteRange(2**27, 2**28)]
    with pytest.raises(ConfigError):
        compute_byte_ranges(100, "lots")
    with pytest.raises(ConfigError):
        compute_byte_ranges(100, 0)


def test_splits_are_the_non_empty_ranges_first_records_chained():
    starts = [Pos(0, 5650), None, Pos(239479, 312), None, None, Pos(484396, 25)]
    assert splits_from_starts(starts, 597482) == [
        Split(Pos(0, 5650), Pos(239479, 312)),
        Split(Pos(239479, 312), Pos(484396, 25)),
        Split(Pos(484396, 25), Pos(597482, 0)),
    ]
    assert str(Split(Pos(1, 2), Pos(3, 0))) == "1:2-3:0"
    assert splits_from_starts([None, None], 10) == []


# -- tasks travel by pickle ----------------------------------------------------------------


def test_a_task_pickles_small_and_reads_the_same_after_the_trip(bam_fixtures):
    fixture = bam_fixtures["short_reads.htsjdk"]
    header, tasks = plan_file(str(fixture.path), 60_000, config=CheckerConfig(reads_to_check=7))
    task = tasks[1]
    assert header.text and task.header.text == "" and task.header.reference_names == header.reference_names
    travelled = pickle.loads(pickle.dumps(task))
    assert travelled == task and len(pickle.dumps(task)) < 2_000
    with SplitReader(task) as original, SplitReader(travelled) as copy:
        assert original.start == copy.start and original.start is not None
        assert original.count() == copy.count()
    # The original task keeps working after being pickled.
    with SplitReader(task) as again:
        assert again.start == copy.start


def test_split_and_range_pickle():
    for value in (Split(Pos(1, 2), Pos(3, 4)), ByteRange(5, 6)):
        assert pickle.loads(pickle.dumps(value)) == value


def test_a_header_too_big_to_ship_is_read_by_the_executor(bam_fixtures):
    fixture = bam_fixtures["many_references.block_aligned"]  # 5,000 references
    _, tasks = plan_file(str(fixture.path), 9_000)
    assert all(task.header is None for task in tasks) and len(pickle.dumps(tasks[0])) < 2_000
    got = split_records(fixture.path, 9_000)
    assert got.positions == [pos.virtual for pos in fixture.record_pos]


def test_a_file_that_changed_after_planning_is_refused(bam_fixtures, tmp_path):
    fixture = bam_fixtures["short_reads.block_aligned"]
    path = tmp_path / "changing.bam"
    shutil.copy(fixture.path, path)
    _, tasks = plan_file(str(path), 50_000)
    with open(path, "ab") as grow:
        grow.write(b"\0")
    with pytest.raises(InputIOError, match="changed"):
        SplitReader(tasks[0])


def test_task_defaults_check_boundaries():
    task = SplitTask("x.bam", 10, ByteRange(0, 10))
    assert task.verify and task.end_pos == Pos(10, 0) and task.config == CheckerConfig()


# -- positions beside empty blocks ---------------------------------------------------------


def _record_after_empty_blocks(fixture):
    """A record htslib names by an empty block: its name's block holds no data."""
    empty = {start for start, usize in zip(fixture.block_starts, fixture.block_usizes) if usize == 0}
    candidates = [pos for pos in fixture.record_pos if pos.offset == 0 and pos.block_pos in empty]
    # The one nearest the middle of the file, so a cut there makes only two or three ranges.
    return min(candidates, key=lambda pos: abs(pos.block_pos - fixture.file_size // 2))


def test_physical_and_htslib_names_of_a_record_after_empty_blocks(bam_fixtures):
    fixture = bam_fixtures["short_reads.empty_midfile"]
    named = _record_after_empty_blocks(fixture)
    with open_bam(str(fixture.path)) as bam:
        physical = physical_pos(bam.reader, named)
        assert physical.block_pos > named.block_pos and physical.offset == 0
        assert htslib_pos(bam.channel, physical) == named
        assert physical_pos(bam.reader, physical) == physical
        assert physical_pos(bam.reader, Pos(bam.size, 0)) is None


@pytest.mark.parametrize("layout", ["empty_midfile", "mixed"])
def test_a_range_boundary_among_empty_blocks_owns_each_record_once(bam_fixtures, layout):
    """Cut right after, between and before the empty blocks that name a record."""
    fixture = bam_fixtures[f"short_reads.{layout}"]
    named = _record_after_empty_blocks(fixture)
    index = fixture.block_starts.index(named.block_pos)
    for cut in sorted({named.block_pos, named.block_pos + 1, fixture.block_starts[index + 1]}):
        got = split_records(fixture.path, cut)
        assert_same_records(got, split_records(fixture.path, fixture.file_size + 1), f"{layout} cut at {cut}")
