"""One crafted record per check: that check alone fails, and the full checker names exactly it.

Each case starts from a valid record and changes one thing. The record is followed by a
valid record, so the chain itself is fine and only the first record's checks speak. The
eager checker must reject exactly the records whose failing check is one of its vetoes.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest

from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.validators.eager import DEFAULT_VETOES, EagerChecker
from sparkbam_py.validators.fields import RunView
from sparkbam_py.validators.flags import BIT, FLAG_NAMES, flag_names, mask_of, show
from sparkbam_py.validators.full import FullChecker
from sparkbam_py.validators.records import References

REFS = References(2, np.array([1000, 2000], dtype=np.int64))
UNMAPPED = 0x4
M, I, S, D, N = 0, 1, 4, 2, 3  # CIGAR op codes (SAMv1 §4.2)


def record(name=b"read1", ref_id=0, pos=100, flag=0, cigar=((10, M),), l_seq=10, next_ref_id=0, next_pos=200,
           raw_name=None, l_read_name=None, n_cigar=None, block_size=None, raw_cigar=None) -> bytes:
    """A BAM record (SAMv1 §4.2); keyword overrides write inconsistent values on purpose."""
    name_bytes = raw_name if raw_name is not None else name + b"\0"
    cigar_bytes = raw_cigar if raw_cigar is not None else b"".join(
        struct.pack("<I", length << 4 | op) for length, op in cigar)
    bases = max(l_seq, 0)
    body = struct.pack(
        "<iiBBHHHiiii", ref_id, pos, len(name_bytes) if l_read_name is None else l_read_name, 60, 4680,
        len(cigar_bytes) // 4 if n_cigar is None else n_cigar, flag, l_seq, next_ref_id, next_pos, 0,
    ) + name_bytes + cigar_bytes + bytes((bases + 1) // 2) + bytes(bases)
    return struct.pack("<i", len(body) if block_size is None else block_size) + body


GOOD = record()


def view_of(data: bytes) -> RunView:
    """The bytes as the whole inflated data of a file (one block, at its end)."""
    return RunView(InflatedRun(data, [0, 1 << 20], [0, len(data)], at_end=True))


def full_at_start(data: bytes):
    return FullChecker(REFS).result_at(view_of(data), 0)


def eager_accepts(data: bytes) -> bool:
    calls = EagerChecker(REFS).calls_at(view_of(data), np.array([0]))
    assert not calls.need_more[0]
    return bool(calls.accepted[0])


# check name -> data starting with a record failing that check alone (a good record follows).
CASES = {
    "tooFewFixedBlockBytes": GOOD[:20],
    "negativeReadIdx": record(ref_id=-2) + GOOD,
    "tooLargeReadIdx": record(ref_id=2) + GOOD,
    "negativeReadPos": record(pos=-2) + GOOD,
    "tooLargeReadPos": record(pos=1001) + GOOD,
    "negativeNextReadIdx": record(next_ref_id=-2) + GOOD,
    "tooLargeNextReadIdx": record(next_ref_id=2) + GOOD,
    "negativeNextReadPos": record(next_pos=-2) + GOOD,
    "tooLargeNextReadPos": record(next_ref_id=1, next_pos=2001) + GOOD,
    "tooFewBytesForReadName": record(name=b"a-long-read-name")[:40],
    "nonNullTerminatedReadName": record(raw_name=b"read1x") + GOOD,
    "nonASCIIReadName": record(name=b"read 1") + GOOD,
    "noReadName": record(raw_name=b"") + GOOD,
    "emptyReadName": record(raw_name=b"\0") + GOOD,
    "tooFewBytesForCigarOps": record(cigar=((4, S), (2, M), (4, S)))[: 36 + 6 + 6],
    "invalidCigarOp": record(cigar=((10, 9),)) + GOOD,
    "emptyMappedCigar": record(cigar=()) + GOOD,
    "emptyMappedSeq": record(l_seq=0) + GOOD,
    "tooFewRemainingBytesImplied": record(block_size=len(GOOD) - 5) + GOOD,
    "nulInReadName": record(raw_name=b"re\0d1\0") + GOOD,
    "nonPrintableReadName": record(raw_name=b"re\x07d1\0") + GOOD,
    "negativeSeqLength": record(l_seq=-1) + GOOD,
    "emptyMappedRead": record(cigar=(), l_seq=0) + GOOD,
    "cigarSeqLengthMismatch": record(cigar=((8, M),)) + GOOD,
    "unknownFlagBits": record(flag=0x1000) + GOOD,
}


def test_every_check_has_a_case():
    assert set(CASES) == set(FLAG_NAMES)


@pytest.mark.parametrize("name", FLAG_NAMES)
def test_full_checker_names_exactly_the_failing_check(name):
    result = full_at_start(CASES[name])
    assert flag_names(result.flags) == [name]
    assert result.reads_before_error == 0


@pytest.mark.parametrize("name", FLAG_NAMES)
def test_eager_rejects_exactly_its_vetoes(name):
    assert eager_accepts(CASES[name]) == (name not in DEFAULT_VETOES)


def test_valid_records_pass_and_count():
    result = full_at_start(GOOD * 3)
    assert result.flags == 0 and result.reads_before_error == 3  # clean end of data after 3
    assert eager_accepts(GOOD * 3)
    assert full_at_start(GOOD * 12).reads_before_error == 10  # stops at reads_to_check


def test_a_later_failing_record_reports_the_records_before_it():
    result = full_at_start(GOOD + GOOD + record(ref_id=-2) + GOOD)
    assert result.flags == BIT["negativeReadIdx"] and result.reads_before_error == 2
    assert show(result.flags, result.reads_before_error) == "negativeReadIdx,readsBeforeError=2"
    assert not eager_accepts(GOOD + GOOD + record(ref_id=-2) + GOOD)


def test_data_ending_inside_a_following_record_rejects():
    result = full_at_start(GOOD + GOOD[:10])
    assert result.flags == BIT["tooFewFixedBlockBytes"] and result.reads_before_error == 1
    assert not eager_accepts(GOOD + GOOD[:10])


def test_the_data_end_itself_is_no_record():
    assert not eager_accepts(b"")


def test_placeholder_cigar_of_a_long_cigar_record_is_consistent():
    # SAMv1 §4.2.2: a CIGAR in the CG tag leaves "<l_seq>S<ref_len>N" in the record.
    placeholder = record(cigar=((10, S), (70000, N)), l_seq=10)
    assert full_at_start(placeholder + GOOD).flags == 0


def test_query_length_counts_only_query_consuming_ops():
    consistent = record(cigar=((3, S), (4, M), (2, I), (5, D), (1, 8), (2, 5)), l_seq=10)
    assert full_at_start(consistent + GOOD).flags == 0


def test_unmapped_records_need_neither_cigar_nor_seq():
    assert full_at_start(record(flag=UNMAPPED, ref_id=-1, pos=-1, cigar=(), l_seq=0) + GOOD).flags == 0


def test_spark_bam_flags_come_first_in_its_order():
    assert FLAG_NAMES[:3] == ("tooFewFixedBlockBytes", "negativeReadIdx", "tooLargeReadIdx")
    assert FLAG_NAMES[16:19] == ("emptyMappedCigar", "emptyMappedSeq", "tooFewRemainingBytesImplied")
    assert mask_of(["negativeReadIdx", "tooLargeReadIdx"]) == 0b110
    with pytest.raises(KeyError):
        mask_of(["noSuchCheck"])
