"""A current ``.sbi`` beside a BAM gives the loader its splits exactly (no search); a stale
one is ignored with a warning; a same-length one that lies is caught by the chain check."""
import dataclasses
import shutil
import warnings

import numpy as np
import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.errors import SplitVerificationError
from sparkbam_py.index.sbi import StaleIndexWarning, compute_sbi, sbi_path_for, write_sbi
from sparkbam_py.pos import Pos
from sparkbam_py.bam.splits import SplitReader, plan_file


def records_of(tasks):
    out = []
    for task in tasks:
        with SplitReader(task) as split:
            out += [Pos.from_virtual(int(v)) for chunk in split.iter_chunks() for v in chunk.virtual_offsets()]
    return out


@pytest.fixture
def bam_with_sbi(tmp_path, bam_fixtures):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    path = tmp_path / "x.bam"
    shutil.copy(fixture.path, path)
    return fixture, path


@pytest.mark.parametrize("granularity", [1, 97, 4096])
def test_current_index_gives_exact_splits(bam_with_sbi, granularity):
    fixture, path = bam_with_sbi
    with open_bam(str(path)) as bam:
        write_sbi(compute_sbi(bam, granularity), sbi_path_for(str(path)))
    _, tasks = plan_file(str(path), 200_000)
    assert tasks and all(task.exact is not None for task in tasks)
    assert records_of(tasks) == fixture.record_pos
    _, searched = plan_file(str(path), 200_000, use_splitting_index=False)
    assert all(task.exact is None for task in searched)
    assert records_of(searched) == fixture.record_pos


def test_stale_index_is_ignored_with_a_warning(bam_with_sbi, tmp_path, bam_fixtures):
    fixture, path = bam_with_sbi
    other = bam_fixtures["short_reads.htsjdk"]
    with open_bam(str(other.path)) as bam:
        write_sbi(compute_sbi(bam, 1), sbi_path_for(str(path)))  # describes another file
    with pytest.warns(StaleIndexWarning):
        _, tasks = plan_file(str(path), 200_000)
    assert all(task.exact is None for task in tasks)
    assert records_of(tasks) == fixture.record_pos


def test_a_lying_index_of_the_right_length_raises(bam_with_sbi):
    fixture, path = bam_with_sbi
    with open_bam(str(path)) as bam:
        index = compute_sbi(bam, 50)
    shifted = index.offsets.copy()
    shifted[1:-1] += 1  # one byte into each indexed record: no longer record starts
    write_sbi(dataclasses.replace(index, offsets=np.asarray(shifted)), sbi_path_for(str(path)))
    with warnings.catch_warnings():
        _, tasks = plan_file(str(path), 100_000)
    with pytest.raises(SplitVerificationError, match="splitting index"):
        records_of(tasks)
