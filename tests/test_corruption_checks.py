"""The checks the corruption fuzzing called for: each catches a change that reads as valid data
to everything else (found by tests/test_fuzz_corruption.py; see its module doc)."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from fixtures.content import short_reads
from fixtures.placement import build_fixture
from sparkbam_py import read_table
from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.layout import OFF_FLAG, OFF_L_READ_NAME, OFF_L_SEQ, OFF_READ_NAME
from sparkbam_py.bgzf.search import find_block_start
from sparkbam_py.channel import open_channel
from sparkbam_py.errors import CorruptBlockError, CorruptRecordError

FLAG_UNMAPPED = 0x4
EOF_MARKER_SIZE = 28  # SAMv1 §4.1.2


def test_a_damaged_header_after_valid_blocks_is_an_error_not_a_skip(tmp_path):
    """An empty mid-file block whose BC subfield length is damaged: the block search used to
    reject every chain through it and start the first split after it, silently dropping the
    records before it.  htslib, lenient about the subfield, reads the file whole."""
    fixture = build_fixture(short_reads(600, seed=31), "empty_midfile", tmp_path)
    empty = next(start for start, usize in zip(fixture.block_starts, fixture.block_usizes)
                 if usize == 0 and start > fixture.block_starts[2])
    data = bytearray(fixture.path.read_bytes())
    data[empty + 15] ^= 0x61  # SLEN's high byte (SAMv1 §4.1: BC, SLEN=2, BSIZE)
    damaged = tmp_path / "damaged.bam"
    damaged.write_bytes(bytes(data))
    with open_channel(damaged) as channel, pytest.raises(CorruptBlockError) as caught:
        find_block_start(channel, 0)
    assert caught.value.compressed_offset == empty and "after" in str(caught.value)
    for split_size in (5_000, 1 << 40):
        with pytest.raises(CorruptBlockError):
            read_table(damaged, ["query_name"], split_size)


def test_a_valid_chain_still_starts_where_it_did(tmp_path):
    fixture = build_fixture(short_reads(300, seed=5), "mixed", tmp_path)
    starts = fixture.block_starts + [fixture.file_size - EOF_MARKER_SIZE]
    with open_channel(fixture.path) as channel:
        for offset in (0, 1, starts[1] + 1, starts[-2] + 1, starts[-1]):
            assert find_block_start(channel, offset) == next(s for s in starts if s >= offset)


def raw_record(cigar_first_op_delta: int, flag: int = 0) -> bytes:
    """One 4S20M record, its first CIGAR op lengthened by ``cigar_first_op_delta``."""
    name_length = 3  # "r1" and its NUL
    record = bytearray(36 + name_length + 8 + 12 + 24)
    struct.pack_into("<iiiBBHHHi", record, 0, len(record) - 4, 0, 100, name_length, 60, 4680, 2, flag, 24)
    struct.pack_into("<iii", record, 24, -1, -1, 0)
    record[OFF_READ_NAME:OFF_READ_NAME + name_length] = b"r1\0"
    cigar_at = OFF_READ_NAME + name_length
    struct.pack_into("<II", record, cigar_at, (4 + cigar_first_op_delta) << 4 | 4, 20 << 4 | 0)
    record[cigar_at + 8:cigar_at + 20] = bytes([0x12, 0x48] * 6)  # ACGT twice per two bytes
    record[cigar_at + 20:] = bytes([40] * 24)
    assert record[OFF_L_READ_NAME] == name_length and struct.unpack_from("<i", record, OFF_L_SEQ)[0] == 24
    assert struct.unpack_from("<H", record, OFF_FLAG)[0] == flag
    return bytes(record)


def test_cigar_and_sequence_lengths_must_agree_as_in_htslib():
    good = np.frombuffer(raw_record(0), dtype=np.uint8)
    assert decode_records(good, [0], ["chr1"], ["cigar"]).column(0).to_pylist() == ["4S20M"]
    bad = np.frombuffer(raw_record(3), dtype=np.uint8)
    with pytest.raises(CorruptRecordError, match="CIGAR consumes 27 query bases but l_seq is 24"):
        decode_records(bad, [0], ["chr1"], ["cigar"], path="x.bam")
    # htslib does not check unmapped records: neither do we.
    unmapped = np.frombuffer(raw_record(3, FLAG_UNMAPPED), dtype=np.uint8)
    assert decode_records(unmapped, [0], ["chr1"], ["cigar"]).column(0).to_pylist() == ["7S20M"]
