"""The block sort without Spark: bounds, slots, packing, and the write of each range.

Blocks are packed the way the reading tasks pack them (several splits, many flushes), then
dealt to writing tasks in a random order and any grouping (a "collision": one task gets
several ranges), and the committed BAM must be samtools sort's record for record.
"""
from __future__ import annotations

import random
import subprocess

import numpy as np
import pyarrow as pa
import pysam
import pytest

from write_helpers import quickcheck, sam_records

from sparkbam_py.write.commit import commit
from sparkbam_py.write.errors import CommitError
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.sort_blocks import BLOCK_RANGE, blocks_of_records, write_range_parts
from sparkbam_py.write.sort_plan import SortPlan, SplitSample, partition_slots, plan_sort, spark_int_hash
from sparkbam_py.write.sort_rows import coordinate_keys
from sparkbam_py.write.split_copy import ReadFilter, kept_records_of_split
from sparkbam_py.formats.bam import plan_reads
from sparkbam_py.bam.options import ReadOptions

ATTEMPT = 3


def _write_reads(path, placed: bool):
    """4,000 reads (random bases, so they span several BGZF blocks) in random order on few
    positions (ties on reference, position and strand everywhere), some placed but unmapped,
    some with no reference at all; without ``placed``, none has a reference."""
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 5000}, {"SN": "chr2", "LN": 5000}]}
    rng = random.Random(11)
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number in range(4000):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"read{number:05d}"
            read.query_sequence = "".join(rng.choice("ACGT") for _ in range(60))
            read.query_qualities = pysam.qualitystring_to_array("".join(rng.choice("#+5?I") for _ in range(60)))
            kind = rng.random() if placed else 0.0
            if kind < 0.1:  # no reference: last, in input order
                read.flag, read.reference_id, read.reference_start = 4, -1, -1
            else:
                read.reference_id, read.reference_start = rng.randrange(2), rng.choice([10, 20, 20, 400, 4000])
                read.flag = (16 if rng.random() < 0.5 else 0) | (4 if kind < 0.15 else 0)
                read.mapping_quality = 0 if read.flag & 4 else 60
                if not read.flag & 4:
                    read.cigarstring = "60M"
            out.write(read)
    return path


@pytest.fixture(scope="module")
def ties_bam(tmp_path_factory):
    return _write_reads(tmp_path_factory.mktemp("sort-blocks") / "ties.bam", placed=True)


@pytest.fixture(scope="module")
def unplaced_bam(tmp_path_factory):
    """Every read without a reference: one key for all, sorted = input order."""
    return _write_reads(tmp_path_factory.mktemp("sort-blocks") / "unplaced.bam", placed=False)


def _split_records(path, split_size="40k"):
    tasks = plan_reads([str(path)], ReadOptions.of(split_size))
    assert len(tasks) >= 4
    return [list(kept_records_of_split(task, ReadFilter())) for task in tasks]


def _blocks(splits, plan, flush_bytes=8 << 10):
    rows = []
    for number, chunks in enumerate(splits):
        for batch in blocks_of_records(chunks, plan, number, flush_bytes):
            rows.extend(batch.slice(i, 1) for i in range(batch.num_rows))
    return rows


def _samtools_sorted(path, tmp_path):
    out = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(out), str(path)], check=True)
    return sam_records(out)


def _plan_of(splits, ranges, range_bytes=1 << 30):
    samples = [SplitSample(number, np.concatenate([_keys(r) for r in chunks]), 1, 1)
               for number, chunks in enumerate(splits)]
    return plan_sort(samples, 1, ranges, range_bytes)


def _keys(records):
    flag = records.data[records.offsets[:-1, None] + 14 + np.arange(2)].copy().view("<u2").reshape(-1)
    return coordinate_keys(records.ref_id, records.pos, flag)


@pytest.mark.parametrize("tasks", [1, 2, 5])
def test_blocks_in_any_order_and_grouping_give_samtools_sort(ties_bam, tmp_path, tasks):
    """Ties keep input order across splits and flushes, unmapped reads come last, and a task
    holding several ranges (one task: every range collides) writes each as its own part."""
    splits = _split_records(ties_bam)
    plan = _plan_of(splits, 6)
    assert plan.ranges >= 3
    rows = _blocks(splits, plan)
    random.Random(tasks).shuffle(rows)
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(ties_bam)).with_sort_order("coordinate"),
                          sorted_output=True)
    # A range's blocks must reach one task: deal by range, as Spark's hash partitioning does.
    dealt = [[row for row in rows if row.column(BLOCK_RANGE)[0].as_py() % tasks == i] for i in range(tasks)]
    summaries = [s for task_rows in dealt for s in write_range_parts(job, plan, task_rows, ATTEMPT)]
    assert sorted(s.partition for s in summaries) == sorted({row.column(BLOCK_RANGE)[0].as_py() for row in rows})
    commit(job, summaries)
    assert quickcheck(tmp_path / "out.bam")
    assert sam_records(tmp_path / "out.bam") == _samtools_sorted(ties_bam, tmp_path)


def test_one_key_for_every_read_spreads_over_ranges_in_input_order(unplaced_bam, tmp_path):
    splits = _split_records(unplaced_bam)
    plan = _plan_of(splits, len(splits))
    rows = _blocks(splits, plan)
    used = {row.column(BLOCK_RANGE)[0].as_py() for row in rows}
    assert len(used) >= 3  # the one key did not all land in one range
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(unplaced_bam)).with_sort_order("coordinate"),
                          sorted_output=True)
    random.Random(2).shuffle(rows)
    commit(job, write_range_parts(job, plan, rows, ATTEMPT))
    assert sam_records(tmp_path / "out.bam") == sam_records(unplaced_bam) == _samtools_sorted(unplaced_bam, tmp_path)


def test_empty_ranges_write_no_part(ties_bam, tmp_path):
    splits = _split_records(ties_bam)
    keys = np.concatenate([np.concatenate([_keys(r) for r in chunks]) for chunks in splits])
    # Range r holds bounds[r-1] <= key < bounds[r]: 0, 1 (below every key) and 4 (above) get nothing.
    low, high = int(keys.min()), int(keys.max())
    plan = SortPlan(np.array([low - 5, low, low + 1, high + 1], dtype=np.int64), np.zeros(4, dtype=np.int64),
                    partition_slots(5))
    rows = _blocks(splits, plan)
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(ties_bam)).with_sort_order("coordinate"),
                          sorted_output=True)
    summaries = write_range_parts(job, plan, rows, ATTEMPT)
    assert [s.partition for s in summaries] == [2, 3]  # 2: the lowest key; 3: the rest
    commit(job, summaries)
    assert sam_records(tmp_path / "out.bam") == _samtools_sorted(ties_bam, tmp_path)


def test_a_record_out_of_its_range_is_refused(ties_bam, tmp_path):
    splits = _split_records(ties_bam)
    packed = _plan_of(splits, 4)
    # The writer's bounds differ from the packer's.
    other = SortPlan(packed.bounds + 2, packed.bound_splits, packed.slots)
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(ties_bam)), sorted_output=True)
    with pytest.raises(CommitError, match="another range"):
        write_range_parts(job, other, _blocks(splits, packed), ATTEMPT)


def test_plan_never_splits_a_key_and_bounds_range_bytes():
    keys = np.repeat(np.array([5, 9, 9, 9, 9, 9, 9, 12], dtype=np.int64), 10)
    plan = plan_sort([SplitSample(0, keys, 1, 1)], 1, 8)
    ranges = plan.range_of(keys, 0)
    for key in np.unique(keys):
        assert len(set(ranges[keys == key].tolist())) == 1
    assert list(ranges) == sorted(ranges)
    # One key in four splits: cut between splits, in split order.
    plan = plan_sort([SplitSample(split, np.full(50, 9, dtype=np.int64), 1, 1) for split in range(4)], 1, 4)
    assert [plan.range_of(np.array([9]), split)[0] for split in range(4)] == [0, 1, 2, 3]
    # 10 GB of compressed input inflating 3x, 1 GB per range: at least 30 ranges.
    many = plan_sort([SplitSample(0, np.arange(1000, dtype=np.int64), 3000, 1000)], 10 << 30, 2, range_bytes=1 << 30)
    assert many.ranges >= 30
    assert many.record_bytes == 30 << 30  # what a local master's spill needs room for


def test_slots_reach_every_partition_once():
    for partitions in (1, 2, 7, 200, 1000):
        slots = partition_slots(partitions)
        placed = np.mod(spark_int_hash(slots).astype(np.int64), partitions)
        assert sorted(placed.tolist()) == list(range(partitions))
    # Spark's SELECT hash(1) (Murmur3_x86_32 with seed 42); the Spark tests compare many more.
    assert spark_int_hash(np.array([1])).tolist() == [-559580957]


def test_blocks_schema_round_trip_keeps_every_record(ties_bam):
    splits = _split_records(ties_bam)
    plan = _plan_of(splits, 3)
    table = pa.Table.from_batches(_blocks(splits, plan))
    assert sum(len(r) for chunks in splits for r in chunks) == 4000
    sizes = sum(len(v.as_py()) for v in table.column("_sparkbam_sizes")) // 4
    assert sizes == 4000
