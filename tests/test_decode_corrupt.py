"""Structurally impossible records raise CorruptRecordError naming the record, never read out of bounds."""
from __future__ import annotations

import array
import struct

import numpy as np
import pytest

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.errors import CorruptRecordError
from sparkbam_py.pos import Pos
from test_decode_oracle import make_segment, read_raw_records, write_bam


@pytest.fixture
def records(tmp_path):
    """A good record, then a victim whose tags are BA:B:c,1,2 and, last, ZZ:Z:xy."""
    path = write_bam(tmp_path / "c.bam", lambda h: [
        make_segment(h, name="good", tags=[("NM", 1, "C")]),
        make_segment(h, name="victim", cigar="2M2S", tags=[("BA", array.array("b", [1, 2]), None), ("ZZ", "xy", "Z")]),
    ])
    data, offsets, names = read_raw_records(path)
    return data.copy(), offsets, names


def put(data, at, fmt, value):
    data[at : at + struct.calcsize(fmt)] = np.frombuffer(struct.pack(fmt, value), dtype=np.uint8)


def decode(records, columns=None, **kwargs):
    data, offsets, names = records
    return decode_records(data, offsets, names, columns, **kwargs)


def victim(records):
    return int(records[1][1])


@pytest.mark.parametrize("field_offset, fmt, value, message", [
    (0, "<i", 10_000, "block_size runs past"),
    (12, "<B", 0, "l_read_name is 0"),
    (20, "<i", 1_000, "overrun block_size"),
    (20, "<i", -3, "negative l_seq"),
    (4, "<i", 3, "ref_id outside"),
    (24, "<i", -2, "next_ref_id outside"),
])
def test_impossible_fixed_fields(records, field_offset, fmt, value, message):
    put(records[0], victim(records) + field_offset, fmt, value)
    with pytest.raises(CorruptRecordError, match=message) as caught:
        decode(records, ["flag"])
    assert "record 1 of the batch" in str(caught.value)


def test_name_without_nul(records):
    data = records[0]
    l_read_name = int(data[victim(records) + 12])
    data[victim(records) + 36 + l_read_name - 1] = ord("x")
    with pytest.raises(CorruptRecordError, match="NUL-terminated"):
        decode(records, ["flag"])


def test_bad_cigar_op_only_when_cigar_is_read(records):
    data = records[0]
    cigar_at = victim(records) + 36 + int(data[victim(records) + 12])
    put(data, cigar_at, "<I", 2 << 4 | 9)
    decode(records, ["flag", "tags"])
    with pytest.raises(CorruptRecordError, match="CIGAR op code 9"):
        decode(records, ["cigar"])


def test_z_tag_without_nul(records):
    records[0][-1] = ord("z")  # the record ends with ZZ:Z:xy and its NUL
    with pytest.raises(CorruptRecordError, match="lacks its NUL"):
        decode(records, ["tags"])


def test_array_tag_with_bad_subtype_or_count(records):
    data = records[0]
    array_at = data.tobytes().rindex(b"BABc")
    data[array_at + 3] = ord("q")
    with pytest.raises(CorruptRecordError, match="unknown element subtype"):
        decode(records, ["tags"])
    data[array_at + 3] = ord("c")
    put(data, array_at + 4, "<I", 1_000_000)
    with pytest.raises(CorruptRecordError, match="runs past the end"):
        decode(records, ["tags"])


def test_tag_cut_short_by_block_size(records):
    data = records[0]
    (block_size,) = struct.unpack_from("<i", data.tobytes(), victim(records))
    put(data, victim(records), "<i", block_size - 5)  # leaves "ZZ" without type or value
    with pytest.raises(CorruptRecordError, match="tag header runs past"):
        decode(records, ["tags"])


def test_error_names_path_and_file_position(records):
    put(records[0], victim(records) + 4, "<i", 99)
    positions = np.array([7 << 16 | 0, 7 << 16 | 120], dtype=np.int64)
    with pytest.raises(CorruptRecordError) as caught:
        decode(records, ["flag"], file_positions=positions, path="x.bam")
    assert caught.value.where == Pos(7, 120) and caught.value.path == "x.bam"


def test_overlapping_offsets(records):
    data, offsets, names = records
    with pytest.raises(CorruptRecordError, match="overlaps"):
        decode_records(data, np.array([offsets[0], offsets[0] + 8]), names, ["flag"])
