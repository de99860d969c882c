"""The sort's blocks through files (a local master's exchange), without Spark.

Each split's records go into its own file (named by split and attempt) with their keys,
ends, sizes and places grouped by range; each range is written from its shares of the
files: the committed BAM must be samtools sort's record for record, whatever stale
attempt's file sits beside; a file cut short, rows outside it or record places outside its
records are refused; the folder goes away, failed or not.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
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
from sparkbam_py.write.sort_spill import (range_block_of, range_blocks_of, range_shares, room_to_spill, spill_folder,
                                          spill_split)


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
    files = [split.file for split in spilled]
    assert len({file.path for file in files}) == len(splits)
    assert sum(file.count for file in files) == 4000 == int(sum(split.range_counts for split in spilled).sum())
    shares = range_shares(spilled, plan.ranges)
    assert sorted(share.target for share in shares) == [t for t in range(plan.ranges)
                                                          if any(s.range_counts[t] for s in spilled)]
    job = WriteJob.create(str(tmp_path / "out.bam"), header_from_bam(str(ties_bam)).with_sort_order("coordinate"),
                          sorted_output=True)
    random.Random(4).shuffle(shares)
    summaries = []
    for share in shares:  # any order of ranges, any order of their blocks
        blocks = range_blocks_of(files, share)
        assert [len(block.keys) for block in blocks] == share.records.tolist()
        random.Random(share.target).shuffle(blocks)
        summaries.append(write_range(job, plan, share.target, blocks, ATTEMPT))
    assert sum(s.records for s in summaries) == 4000
    commit(job, summaries)
    assert quickcheck(tmp_path / "out.bam")
    expected = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(expected), str(ties_bam)], check=True)
    assert sam_records(tmp_path / "out.bam") == sam_records(expected)


def test_a_file_cut_short_or_asked_outside_itself_is_refused(ties_bam, tmp_path):
    splits = _split_records(ties_bam)
    plan = _plan_of(splits, 3)
    [spilled] = _spill(splits[:1], plan, tmp_path)
    file = spilled.file
    share = max(range_shares([spilled], plan.ranges), key=lambda share: share.records[0])
    first, records = int(share.firsts[0]), int(share.records[0])
    block = range_block_of(file, first, records)
    assert len(block.keys) == records and len(block.records()) == block.sizes.sum()
    assert (plan.range_of(block.keys, 0) == share.target).all()
    with pytest.raises(CommitError, match="which holds"):
        range_block_of(file, first + 1, file.count)
    # The same bytes described as one record more and 28 bytes of records fewer: the columns misread.
    with pytest.raises(CommitError, match="outside its"):
        range_block_of(replace(file, record_bytes=file.record_bytes - 28, count=file.count + 1), first, records)
    os.truncate(file.path, file.size - 1)
    with pytest.raises(CommitError, match="not the") as caught:
        range_block_of(file, 0, 1)
    assert file.path in str(caught.value) and str(file.size) in str(caught.value)


def test_shares_are_each_range_s_rows_of_each_file():
    from sparkbam_py.write.sort_spill import SpilledFile, SpilledSplit

    spilled = [SpilledSplit(SpilledFile(n, f"f{n}", sum(c), 0), np.array(c, dtype=np.int64))
               for n, c in enumerate([[2, 0, 3], [0, 0, 4], [1, 0, 0]])]
    shares = range_shares(spilled, 3)
    assert [(s.target, s.files.tolist(), s.firsts.tolist(), s.records.tolist()) for s in shares] == [
        (0, [0, 2], [0, 0], [2, 1]), (2, [0, 1], [2, 0], [3, 4])]


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


def test_scratch_is_where_spark_keeps_its_own(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from sparkbam_py.spark.session import local_scratch_root

    def session(conf):
        return SimpleNamespace(sparkContext=SimpleNamespace(getConf=lambda: SimpleNamespace(
            get=lambda key, default: conf.get(key, default))))

    monkeypatch.delenv("SPARK_LOCAL_DIRS", raising=False)
    assert local_scratch_root(session({"spark.local.dir": f"{tmp_path}/a, {tmp_path}/b"})) == f"{tmp_path}/a"
    monkeypatch.setenv("SPARK_LOCAL_DIRS", f"{tmp_path}/env,{tmp_path}/other")  # overrides the conf, as in Spark
    assert local_scratch_root(session({"spark.local.dir": f"{tmp_path}/a"})) == f"{tmp_path}/env"
    monkeypatch.delenv("SPARK_LOCAL_DIRS")
    assert local_scratch_root(session({})) == tempfile.gettempdir()
