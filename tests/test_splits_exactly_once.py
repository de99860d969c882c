"""Exactly once: at every split size, the records of all splits are the file's records.

For every layout the project's BGZF writer makes, the split reading (executor code, run in
this process) must equal the fixture builder's own record list AND pysam's sequential read:
same virtual positions, same names, none lost, none repeated.  A truncated file must raise,
never return a short result.  The same property over Spark engines is in test_spark_load.py.
"""
from __future__ import annotations

import pytest

from fixtures import standard_fixture_names
from spark.oracle import Records, assert_same_records, pysam_records, split_records, split_sizes_for
from sparkbam_py.config import DEFAULT_SPLIT_SIZE
from sparkbam_py.errors import TruncatedError


def fixture_truth(fixture) -> Records:
    return Records([pos.virtual for pos in fixture.record_pos], list(fixture.query_names))


@pytest.mark.parametrize("name", [n for n in standard_fixture_names() if not n.endswith(".truncated")])
def test_all_splits_together_read_every_record_once(bam_fixtures, name):
    fixture = bam_fixtures[name]
    truth = fixture_truth(fixture)
    for split_size in split_sizes_for(fixture.file_size) + [DEFAULT_SPLIT_SIZE]:
        got = split_records(fixture.path, split_size)
        assert_same_records(got, truth, f"{name} at split size {split_size}")


@pytest.mark.parametrize("name", [n for n in standard_fixture_names() if n.endswith(".truncated")])
def test_a_truncated_file_raises_at_every_split_size(bam_fixtures, name):
    fixture = bam_fixtures[name]
    assert fixture.truncated
    for split_size in split_sizes_for(fixture.file_size):
        with pytest.raises(TruncatedError):
            split_records(fixture.path, split_size)


@pytest.mark.parametrize("name", ["short_reads.block_aligned", "long_reads.htsjdk", "short_reads.empty_midfile",
                                  "all_unmapped.mixed", "long_cigar.tiny_blocks", "odd_names.htsjdk", "many_references.level0"])
def test_the_fixture_truth_is_what_pysam_reads(bam_fixtures, name):
    """The oracle of the test above agrees with htslib, empty-block naming included."""
    fixture = bam_fixtures[name]
    assert_same_records(pysam_records(fixture.path), fixture_truth(fixture), name)


def test_small_split_sizes_really_make_empty_and_block_less_ranges(bam_fixtures):
    """The split sizes used above cover ranges without a block start and ranges with blocks
    but no record start (inside long reads): both must become empty partitions."""
    from sparkbam_py.bam.splits import SplitReader, plan_file

    fixture = bam_fixtures["long_reads.block_aligned"]
    _, tasks = plan_file(str(fixture.path), min(split_sizes_for(fixture.file_size)))
    kinds = {"no block": 0, "blocks, no record": 0, "records": 0}
    for task in tasks:
        with SplitReader(task) as split:
            has_block = split.reader.find_block_start(task.range.start) < task.range.end
            if split.start is not None:
                kinds["records"] += 1
                assert split.start in fixture.record_pos
            else:
                kinds["blocks, no record" if has_block else "no block"] += 1
    assert all(kinds.values()), kinds
