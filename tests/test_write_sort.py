"""The coordinate sort's pieces without Spark: its keys, and the commit's order check."""
from __future__ import annotations

import numpy as np
import pytest

from fixtures import CONTENT_KINDS, build_fixture
from test_write_records import record_batches

from sparkbam_py.write.commit import commit
from sparkbam_py.write.errors import CommitError
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.sort_rows import coordinate_keys


def test_keys_order_as_samtools_sort():
    ref_id = np.array([0, 0, 0, 1, -1, -1])
    pos = np.array([5, 5, 6, 0, -1, -1])
    flag = np.array([0, 0x10, 0, 0x10, 4, 4 | 0x10])
    keys = coordinate_keys(ref_id, pos, flag)
    # reference, position, forward before reverse; no reference after every reference.
    assert list(np.argsort(keys, kind="stable")) == [0, 1, 2, 3, 4, 5]
    assert keys[4] > keys[3]


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
