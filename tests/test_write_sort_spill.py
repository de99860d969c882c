"""The sort's blocks through files (a local master's exchange), without Spark.

Each split's records go into its own file (named by split and attempt) with their keys,
ends, sizes and ranges; each range is written from the blocks gathered out of every file
holding some of it: the committed BAM must be samtools sort's record for record, whatever
stale attempt's file sits beside; a file cut short or a range miscounted is refused; the
folder goes away, failed or not.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest

from test_write_sort_blocks import ATTEMPT, _plan_of, _split_records, _write_reads
from write_helpers import quickcheck, sam_records

from sparkbam_py.write.commit import commit
from sparkbam_py.write.errors import CommitError
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.sort_blocks import write_range
from sparkbam_py.write.sort_spill import range_block_of, room_to_spill, spill_folder, spill_split


@pytest.fixture(scope="module")
def ties_bam(tmp_path_factory):
    return _write_reads(tmp_path_factory.mktemp("sort-spill") / "ties.bam", placed=True)


def _spill(splits, plan, folder, attempt=ATTEMPT):
    return [spill_split(chunks, plan, number, str(folder), attempt) for number, chunks in enumerate(splits)]


def test_spilled_splits_give_samtools_sort(ties_bam, tmp_path):
    splits = _split_records(ties_bam)
    plan = _plan_of(splits, 5)
    folder = tmp_path / "spill"
    folder.mkdir()
    _spill(splits[:2], plan, folder, attempt=ATTEMPT + 1)  # a failed attempt's files, never described
    spilled = _spill(splits, plan, folder)
    assert len({split.path for split in spilled}) == len(splits)
    assert sum(split.count for split in spilled) == 4000
    assert int(sum(split.range_counts for split in spilled).sum()) == 4000
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(ties_bam)).with_sort_order("coordinate"),
                          sorted_output=True)
    targets = list(range(plan.ranges))
    random.Random(4).shuffle(targets)
    summaries = []
    for target in targets:  # any order of ranges, any order of their blocks
        blocks = [range_block_of(split, target) for split in spilled if split.range_counts[target]]
        random.Random(target).shuffle(blocks)
        if blocks:
            summaries.append(write_range(job, plan, target, blocks, ATTEMPT))
    assert sum(s.records for s in summaries) == 4000
    commit(job, summaries)
    assert quickcheck(tmp_path / "out.bam")
    expected = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(expected), str(ties_bam)], check=True)
    assert sam_records(tmp_path / "out.bam") == sam_records(expected)


def test_a_file_cut_short_or_a_range_miscounted_is_refused(ties_bam, tmp_path):
    splits = _split_records(ties_bam)
    plan = _plan_of(splits, 3)
    [spilled] = _spill(splits[:1], plan, tmp_path)
    target = int(np.argmax(spilled.range_counts))
    block = range_block_of(spilled, target)
    assert len(block.keys) == spilled.range_counts[target] and len(block.records()) == block.sizes.sum()
    miscounted = replace(spilled, range_counts=spilled.range_counts + 1)
    with pytest.raises(CommitError, match="its task counted"):
        range_block_of(miscounted, target)
    os.truncate(spilled.path, spilled.size - 1)
    with pytest.raises(CommitError, match="not the") as caught:
        range_block_of(spilled, target)
    assert spilled.path in str(caught.value) and str(spilled.size) in str(caught.value)


def test_the_folder_goes_away_failed_or_not(tmp_path):
    root = tmp_path / "scratch"
    with spill_folder(str(root)) as folder:
        (open(os.path.join(folder, "a.blocks"), "wb")).close()
    with pytest.raises(RuntimeError):
        with spill_folder(str(root)) as folder:
            (open(os.path.join(folder, "b.blocks"), "wb")).close()
            raise RuntimeError("a task failed")
    assert os.listdir(root) == []
    shutil.rmtree(root)


def test_room_to_spill_is_the_disk_s_free_space(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    assert room_to_spill(str(tmp_path), 1 << 20)
    assert not room_to_spill(str(tmp_path), free)  # the margin on top of all of it
    assert room_to_spill(str(tmp_path / "not-yet"), 1 << 20)  # created on first use: its parent's disk
