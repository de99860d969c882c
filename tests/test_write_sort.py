"""The coordinate sort's pieces without Spark: keys, bounds, partitions, the commit's order check."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import CONTENT_KINDS, build_fixture
from test_write_records import record_batches

from sparkbam_py.write.commit import commit
from sparkbam_py.write.errors import CommitError
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.sort_bounds import KeySample, partition_of, range_bounds
from sparkbam_py.write.sort_rows import coordinate_keys


def test_keys_order_as_samtools_sort():
    ref_id = np.array([0, 0, 0, 1, -1, -1])
    pos = np.array([5, 5, 6, 0, -1, -1])
    flag = np.array([0, 0x10, 0, 0x10, 4, 4 | 0x10])
    keys = coordinate_keys(ref_id, pos, flag)
    # reference, position, forward before reverse; no reference after every reference.
    assert list(np.argsort(keys, kind="stable")) == [0, 1, 2, 3, 4, 5]
    assert keys[4] > keys[3]


pairs = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(pairs, st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=6))
def test_partition_is_the_number_of_bounds_at_or_below_the_row(rows, bounds):
    bounds = sorted(bounds)
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    sequences = np.array([s for _, s in rows], dtype=np.int64)
    bound_arrays = (np.array([k for k, _ in bounds], dtype=np.int64), np.array([s for _, s in bounds], dtype=np.int64))
    expected = [sum(1 for bound in bounds if bound <= row) for row in rows]
    assert partition_of(keys, sequences, bound_arrays).tolist() == expected


def test_bounds_split_the_weight_evenly_and_spread_equal_keys():
    # Two splits: one all unplaced reads (one key), one of distinct keys, equal weight each.
    unplaced = KeySample(np.full(1000, 7 << 40), np.arange(1000), 1.0)
    placed = KeySample(np.arange(1000, dtype=np.int64), (1 << 40) + np.arange(1000), 1.0)
    bounds = range_bounds([placed, unplaced], 4)
    keys = np.concatenate([placed.keys, unplaced.keys])
    sequences = np.concatenate([placed.sequences, unplaced.sequences])
    sizes = np.bincount(partition_of(keys, sequences, bounds), minlength=4)
    assert sizes.tolist() == [500, 500, 500, 500]  # the unplaced reads fill two partitions, in order


def test_a_sorted_write_whose_parts_come_out_of_order_fails_its_commit(tmp_path):
    source = build_fixture(CONTENT_KINDS["short_reads"](), "block_aligned", tmp_path).path
    batches = list(record_batches(source))
    assert len(batches) >= 1
    half = batches[0].num_rows // 2
    first, second = batches[0].slice(0, half), batches[0].slice(half)
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(source)), sorted_output=True)
    parts = [job.write_part([second], 0, 1), job.write_part([first], 1, 1)]  # swapped
    with pytest.raises(CommitError, match="not in coordinate order"):
        commit(job, parts)
    assert not (tmp_path / "out.bam").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.bam")]
