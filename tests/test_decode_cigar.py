"""CIGAR columns: long CIGARs kept in the CG tag (SAMv1 §4.2.2) and reference_end edge cases."""
from __future__ import annotations

import array
import re

import pytest

from sparkbam_py.bam.layout import FIXED_FIELDS_DTYPE, gather_fixed_fields
from test_decode_oracle import (
    assert_decodes_like_pysam,
    decode_file,
    decoded_rows,
    make_segment,
    read_raw_records,
    write_bam,
)

LONG_OPS = 70_000  # more than the 65,535 that n_cigar_op can count
CIGAR_CODES = {letter: code for code, letter in enumerate("MIDNSHP=X")}


def cg_ops(cigar):
    """A CIGAR's ops as CG:B,I values (length << 4 | code)."""
    return [length << 4 | CIGAR_CODES[letter] for length, letter in cigar]


def long_cigar_bam(tmp_path):
    # 1M1I repeated: 70,000 ops consuming 70,000 bases of query and 35,000 of reference.
    cigar = "1M1I" * (LONG_OPS // 2)
    return write_bam(tmp_path / "long.bam", lambda h: [
        make_segment(h, name="short-before", cigar="3M", seq="ACG", quals=[9] * 3),
        make_segment(h, name="long", pos=1000, cigar=cigar, seq="ACGT" * (LONG_OPS // 4), quals=None,
                     tags=[("NM", 35_000, "I"), ("RG", "g", "Z")]),
        make_segment(h, name="short-after", cigar="2M", seq="AC", quals=[9] * 2),
    ])


def test_htslib_moves_long_cigars_to_cg(tmp_path):
    data, offsets, _ = read_raw_records(long_cigar_bam(tmp_path))
    fixed = gather_fixed_fields(data, offsets)
    assert fixed.dtype == FIXED_FIELDS_DTYPE
    # On disk the long record holds the two-op placeholder; its real CIGAR is in CG.
    assert fixed["n_cigar_op"].tolist() == [1, 2, 1]
    assert b"CGBI" in data[offsets[1] : offsets[2]].tobytes()


@pytest.mark.parametrize("columns", [None, ["cigar"], ["reference_end"], ["tags"], ["tags", "cigar"]])
def test_long_cigar_resolved_from_cg(tmp_path, columns):
    path = long_cigar_bam(tmp_path)
    batch = assert_decodes_like_pysam(path, columns)
    row = decoded_rows(batch)[1]
    if "cigar" in row:
        assert row["cigar"] == "1M1I" * (LONG_OPS // 2)
    if "reference_end" in row:
        assert row["reference_end"] == 1000 + LONG_OPS // 2
    if "tags" in row:
        assert "CG" not in row["tags"] and row["tags"]["RG"] == "Z:g"


def placeholder_bam(tmp_path, **changes):
    """A record with a placeholder CIGAR (4S10N for a 4-base read) and a CG tag."""
    spec = dict(name="p", ref=0, pos=10, cigar="4S10N", seq="ACGT", quals=[5] * 4,
                tags=[("CG", array.array("I", cg_ops([(2, "M"), (1, "D"), (2, "M")])), None)])
    spec.update(changes)
    return write_bam(tmp_path / "ph.bam", lambda h: [make_segment(h, **spec)])


@pytest.mark.parametrize("changes, resolved", [
    ({}, True),
    # htslib also accepts a signed 'i' array.
    ({"tags": [("CG", array.array("i", cg_ops([(4, "M")]) + [0]), None)]}, True),
    # Not a placeholder: the first op does not soft-clip the whole read.
    ({"cigar": "4M"}, False),
    ({"cigar": "3S1M"}, False),
    # Unplaced records keep their CIGAR.
    ({"ref": -1, "pos": -1, "flag": 4}, False),
    # The CG array must have at least as many ops as the placeholder.
    ({"tags": [("CG", array.array("I", cg_ops([(4, "M")])), None)], "cigar": "4S1N1D"}, False),
    # A CG that is not an integer array stays a plain tag.
    ({"tags": [("CG", "4M", "Z")]}, False),
])
def test_cg_resolution_follows_htslib(tmp_path, changes, resolved):
    path = placeholder_bam(tmp_path, **changes)
    row = decoded_rows(assert_decodes_like_pysam(path))[0]
    assert ("CG" not in row["tags"]) == resolved


@pytest.mark.parametrize("cigar", ["5S", "3S2H", "10M", "2M3D2M", "1M100N1M", "4I", "2=3X", "3P1M", "5H2M5H"])
def test_reference_end_matches_pysam(tmp_path, cigar):
    query_length = sum(int(n) for n, op in re.findall(r"(\d+)(\D)", cigar) if op in "MIS=X")
    path = write_bam(tmp_path / "e.bam", lambda h: [
        make_segment(h, pos=77, cigar=cigar, seq="A" * query_length, quals=[3] * query_length),
        make_segment(h, flag=4, pos=77, cigar=cigar, seq="A" * query_length, quals=[3] * query_length),
    ])
    rows = decoded_rows(assert_decodes_like_pysam(path))
    assert rows[1]["reference_end"] is None


def test_cigar_op_lengths_of_every_digit_count(tmp_path):
    cigar = "1M22I333D4444N55555M666666D7777777N"
    query_length = 1 + 22 + 55555
    path = write_bam(tmp_path / "d.bam", lambda h: [
        make_segment(h, cigar=cigar, seq="C" * query_length, quals=None),
    ])
    assert decode_file(path, ["cigar"]).column("cigar").to_pylist() == [cigar]
    assert_decodes_like_pysam(path)


def test_batch_without_any_cigar(tmp_path):
    path = write_bam(tmp_path / "n.bam", lambda h: [
        make_segment(h, name=f"u{i}", flag=4, ref=-1, pos=-1, cigar=None, seq="ACG", quals=None) for i in range(3)
    ])
    rows = decoded_rows(assert_decodes_like_pysam(path))
    assert [row["cigar"] for row in rows] == [None] * 3
