"""decode_records against pysam, record by record and column by column."""
from __future__ import annotations

import array

import numpy as np
import pyarrow as pa
import pytest

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.schema import DEFAULT_COLUMNS, bam_schema
from test_decode_oracle import (
    assert_decodes_like_pysam,
    decode_file,
    decoded_rows,
    make_segment,
    read_raw_records,
    write_bam,
)

IUPAC = "=ACMGRSVTWYHKDBN"


def test_paired_mapped_reads(tmp_path):
    def build(h):
        yield make_segment(h, name="pair/1", flag=99, ref=0, pos=1000, cigar="3S5M2I4M1D6M", seq="ACGTN" * 4,
                           quals=range(20), next_ref=0, next_pos=1200, tlen=300)
        yield make_segment(h, name="pair/2", flag=147, ref=0, pos=1200, cigar="20M", seq="TTGCA" * 4,
                           quals=[40] * 20, next_ref=0, next_pos=1000, tlen=-300)
        yield make_segment(h, name="chimera", flag=2049 | 64, ref=2, pos=5, mapq=3, cigar="4M2N4M3H",
                           seq="ACGTACGT", quals=[2] * 8, next_ref=1, next_pos=77, tlen=0)
        yield make_segment(h, name="eqx", ref=1, pos=0, cigar="2=1X1=2P", seq="ACGT")

    assert_decodes_like_pysam(write_bam(tmp_path / "mapped.bam", build))


def test_unmapped_unplaced_and_missing_fields(tmp_path):
    def build(h):
        # Unplaced unmapped read: no reference, no position, no CIGAR, no sequence.
        yield make_segment(h, name="unplaced", flag=4, ref=-1, pos=-1, mapq=0, cigar=None, seq=None, quals=None)
        # Unmapped but placed next to its mapped mate, with a sequence and a CIGAR left in.
        yield make_segment(h, name="placed", flag=1 | 4 | 64, ref=1, pos=50, cigar="4M", seq="ACGT",
                           next_ref=1, next_pos=50)
        # Secondary alignment without SEQ ('*'), and a primary one without SEQ either.
        yield make_segment(h, name="secondary", flag=256, cigar="10M", seq=None, quals=None)
        yield make_segment(h, name="primary-no-seq", flag=0, cigar="3M1I6M", seq=None, quals=None)
        # Sequence present, qualities absent (stored as 0xFF).
        yield make_segment(h, name="no-quals", seq="GATTACA", cigar="7M", quals=None)
        # Mapped read with no CIGAR at all.
        yield make_segment(h, name="no-cigar", flag=0, cigar=None, seq="AC", quals=[1, 2])

    batch = assert_decodes_like_pysam(write_bam(tmp_path / "gaps.bam", build))
    rows = decoded_rows(batch)
    assert rows[0]["reference_name"] is None and rows[0]["reference_start"] == -1
    assert rows[0]["cigar"] is None and rows[0]["query_sequence"] is None
    assert rows[1]["reference_end"] is None  # unmapped flag wins over the CIGAR
    assert rows[2]["query_sequence"] is None and rows[2]["query_qualities"] is None
    assert rows[4]["query_sequence"] == "GATTACA" and rows[4]["query_qualities"] is None
    assert rows[5]["cigar"] is None and rows[5]["reference_end"] is None


@pytest.mark.parametrize("length", [1, 2, 3, 15, 16, 17, 101])
def test_sequences_of_every_length_parity_and_code(tmp_path, length):
    sequence = (IUPAC * 8)[:length]
    path = write_bam(tmp_path / "seq.bam", lambda h: [
        make_segment(h, name=f"s{i}", cigar=f"{length}M", seq=sequence[i:] + sequence[:i],
                     quals=[(i + j) % 94 for j in range(length)])
        for i in range(3)
    ])
    assert_decodes_like_pysam(path)


def test_every_tag_type(tmp_path):
    tags = [
        ("XA", "q", "A"),
        ("Xc", -128, "c"), ("Xd", 127, "c"), ("XC", 255, "C"), ("XD", 0, "C"),
        ("Xs", -32768, "s"), ("XS", 65535, "S"), ("Xi", -2**31, "i"), ("Xj", 2**31 - 1, "i"),
        ("XI", 2**32 - 1, "I"),
        ("Xf", 3.14159, "f"), ("Xg", -1e-7, "f"), ("Xh", 1e20, "f"), ("Xk", 0.0, "f"),
        ("XZ", "hello world", "Z"), ("XE", "", "Z"), ("XH", "1AE301", "H"),
        ("Bc", array.array("b", [-128, 0, 127]), None), ("BC", array.array("B", [0, 255]), None),
        ("Bs", array.array("h", [-32768, 5]), None), ("BS", array.array("H", [65535]), None),
        ("Bi", array.array("i", [-2**31, 2**31 - 1]), None), ("BI", array.array("I", [2**32 - 1, 0]), None),
        ("Bf", array.array("f", [0.5, -2.25e-5, 1e30]), None),
        ("Be", array.array("b", []), None), ("BF", array.array("f", []), None),
    ]
    path = write_bam(tmp_path / "tags.bam", lambda h: [
        make_segment(h, name="all", tags=tags),
        make_segment(h, name="none"),
        make_segment(h, name="few", tags=[("NM", 2, "C"), ("RG", "grp1", "Z")]),
    ])
    batch = assert_decodes_like_pysam(path)
    tags_of = [row["tags"] for row in decoded_rows(batch)]
    assert tags_of[0]["XI"] == "i:4294967295"
    assert tags_of[0]["Bc"] == "B:c,-128,0,127" and tags_of[0]["Be"] == "B:c"
    assert tags_of[1] == {}
    assert tags_of[2] == {"NM": "i:2", "RG": "Z:grp1"}


def test_column_projection_selects_and_orders(tmp_path):
    path = write_bam(tmp_path / "p.bam", lambda h: [make_segment(h, name=f"r{i}", pos=i) for i in range(4)])
    full = decode_file(path)
    picked = decode_file(path, ["tags", "reference_start", "query_name"])
    assert picked.schema == bam_schema(["tags", "reference_start", "query_name"])
    for name in picked.schema.names:
        assert picked.column(name).equals(full.column(name))


def test_projection_skips_the_tags_walk(tmp_path):
    # Corrupt the last record's tag type: only columns that read tags may notice.
    path = write_bam(tmp_path / "t.bam", lambda h: [make_segment(h, tags=[("NM", 1, "C")])])
    data, offsets, names = read_raw_records(path)
    broken = data.copy()
    broken[-2] = ord("?")  # tag "NM" type 'C' value 1: the type byte is second to last
    batch = decode_records(broken, offsets, names, [c for c in DEFAULT_COLUMNS if c != "tags"])
    assert batch.num_rows == 1
    from sparkbam_py.errors import CorruptRecordError

    with pytest.raises(CorruptRecordError, match="unknown value type"):
        decode_records(broken, offsets, names, ["tags"])


def test_file_position_column(tmp_path):
    path = write_bam(tmp_path / "f.bam", lambda h: [make_segment(h, name=f"r{i}") for i in range(3)])
    data, offsets, names = read_raw_records(path)
    positions = np.array([5 << 16 | 7, 5 << 16 | 300, 9 << 16], dtype=np.int64)
    batch = decode_records(data, offsets, names, ["query_name"], file_positions=positions)
    assert batch.schema == bam_schema(["query_name"], with_file_position=True)
    assert batch.column("file_position").to_pylist() == positions.tolist()
    assert batch.schema.names[-1] == "file_position"


def test_subset_of_records(tmp_path):
    path = write_bam(tmp_path / "s.bam", lambda h: [make_segment(h, name=f"r{i}", pos=i) for i in range(5)])
    data, offsets, names = read_raw_records(path)
    batch = decode_records(data, offsets[1::2], names, ["query_name", "reference_start"])
    assert batch.column("query_name").to_pylist() == ["r1", "r3"]


@pytest.mark.parametrize("data", [np.zeros(0, dtype=np.uint8), np.arange(100, dtype=np.uint8)])
def test_empty_batch_has_the_schema(data):
    batch = decode_records(data, np.zeros(0, dtype=np.int64), ["chr1"])
    assert batch.num_rows == 0
    assert batch.schema == bam_schema()
    with_positions = decode_records(data, [], [], file_positions=np.zeros(0, dtype=np.int64))
    assert with_positions.schema == bam_schema(with_file_position=True)


def test_bytes_input_and_exact_types(tmp_path):
    path = write_bam(tmp_path / "b.bam", lambda h: [make_segment(h)])
    data, offsets, names = read_raw_records(path)
    batch = decode_records(data.tobytes(), offsets.tolist(), names)
    for field in batch.schema:
        assert batch.column(field.name).type == field.type
    assert batch.schema.field("tags").type == pa.map_(pa.string(), pa.string())


def test_reference_names_as_arrow_array(tmp_path):
    path = write_bam(tmp_path / "r.bam", lambda h: [make_segment(h, ref=2, next_ref=1, next_pos=5)])
    data, offsets, names = read_raw_records(path)
    batch = decode_records(data, offsets, pa.array(names), ["reference_name", "next_reference_name"])
    assert batch.to_pylist() == [{"reference_name": "chrM", "next_reference_name": "chr2"}]
