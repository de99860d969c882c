"""The hadoop-bam baseline: spark-bam's published false positives, and each kept quirk."""
from __future__ import annotations

import numpy as np
import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.pos import Pos
from sparkbam_py.validators.eager import EagerChecker
from sparkbam_py.validators.fields import RunView
from sparkbam_py.validators.hadoop_bam import MAX_BYTES_READ, HadoopBamChecker
from sparkbam_py.validators.indexed import read_records_file

from test_validators_flags import GOOD, REFS, record

SPARK_BAM = "hammerlab__spark-bam"
BAM_1 = "test-bams__src__main__resources__1.bam"
BAM_2 = "test-bams__src__main__resources__2.bam"
# spark-bam's check-bam expectation for 1.bam (its README and cli test output).
PUBLISHED_1_BAM_FALSE_POSITIVES = ["39374:30965", "239479:311", "484396:46507", "508565:56574", "533464:49472"]
EOF_MARKER_SIZE = 28


def false_calls(path):
    with open_bam(str(path)) as bam:
        run = bam.reader.read_run(0, 1 << 30)
        calls = HadoopBamChecker(bam.header.n_ref, bam.size).calls_range(RunView(run), 0, len(run))
    assert not calls.need_more.any()
    truth = read_records_file(f"{path}.records")
    accepted = run.virtual_offsets(np.flatnonzero(calls.accepted))
    positives = [str(Pos.from_virtual(int(v))) for v in np.setdiff1d(accepted, truth)]
    negatives = [str(Pos.from_virtual(int(v))) for v in np.setdiff1d(truth, accepted)]
    return positives, negatives


@pytest.mark.corpus
def test_reproduces_spark_bams_five_false_positives_on_1_bam(corpus_dir):
    positives, negatives = false_calls(corpus_dir / SPARK_BAM / BAM_1)
    assert positives == PUBLISHED_1_BAM_FALSE_POSITIVES
    assert negatives == []


@pytest.mark.corpus
def test_no_false_call_on_2_bam(corpus_dir):
    assert false_calls(corpus_dir / SPARK_BAM / BAM_2) == ([], [])


@pytest.mark.corpus
def test_range_and_index_calls_agree(corpus_dir):
    with open_bam(str(corpus_dir / SPARK_BAM / BAM_1)) as bam:
        run = bam.reader.read_run(0, 1 << 30)
        checker = HadoopBamChecker(bam.header.n_ref, bam.size)
        lo, hi = 30000, 90000
        by_range = checker.calls_range(RunView(run), lo, hi)
        by_index = checker.calls_at(RunView(run), np.arange(lo, hi))
    assert np.array_equal(by_range.accepted, by_index.accepted)
    assert by_range.accepted.sum() > 100


def file_of(data: bytes, eof_marker: bool = True):
    """``data`` as one BGZF block, then (optionally) the empty EOF-marker block."""
    block_end = len(data) // 2 + 100  # any compressed size will do: only starts matter
    starts = [0, block_end, block_end + EOF_MARKER_SIZE] if eof_marker else [0, block_end]
    data_starts = [0, len(data), len(data)] if eof_marker else [0, len(data)]
    run = InflatedRun(data, starts, data_starts, at_end=True)
    return RunView(run), starts[-1]


def hadoop_accepts(data: bytes, eof_marker: bool = True) -> bool:
    view, size = file_of(data, eof_marker)
    calls = HadoopBamChecker(REFS.n_ref, size).calls_at(view, np.array([0]))
    assert not calls.need_more[0]
    return bool(calls.accepted[0])


def eager_accepts(data: bytes) -> bool:
    view, _ = file_of(data)
    return bool(EagerChecker(REFS).calls_at(view, np.array([0])).accepted[0])


def test_true_records_before_the_eof_marker_pass():
    assert hadoop_accepts(GOOD * 3) and eager_accepts(GOOD * 3)


def test_without_an_eof_marker_the_last_records_fail():
    # Reading past the data then throws instead of returning end-of-stream (quirk 7's twin).
    assert not hadoop_accepts(GOOD * 3, eof_marker=False)


def test_reference_id_equal_to_n_ref_passes():
    data = record(ref_id=REFS.n_ref) + GOOD * 2
    assert hadoop_accepts(data) and not eager_accepts(data)


def test_a_name_of_just_the_nul_passes():
    data = record(raw_name=b"\0") + GOOD * 2
    assert hadoop_accepts(data) and not eager_accepts(data)


def test_a_following_record_running_out_of_data_passes():
    # The false-positive pattern: one record decodes, the next "record" claims ~1e9 bytes,
    # the skip runs out of data, and that counts as success.
    data = record(pos=5000) + record(block_size=10**9) + GOOD
    assert hadoop_accepts(data) and not eager_accepts(data)


def test_an_invalid_cigar_op_in_a_following_record_fails():
    assert not hadoop_accepts(GOOD + record(cigar=((5, 9),)) + GOOD)


def test_the_candidates_own_cigar_is_checked_only_by_its_decoding():
    # checkRecordStart ignores the CIGAR; the first decode of checkSucceedingRecords sees it.
    assert not hadoop_accepts(record(cigar=((5, 9),)) + GOOD * 2)


def test_window_is_hadoop_bams_constant():
    # BLOCKS_NEEDED_FOR_GUESS * 0xffff + 0xfffe: 262,139 bytes (the "262,141" is a
    # slip in the sum; hadoop-bam's source defines it by this formula).
    assert MAX_BYTES_READ == 3 * 0xFFFF + 0xFFFE == 262_139
