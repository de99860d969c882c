"""Hypothesis-generated records, written by pysam, decoded, and compared with pysam's reading."""
from __future__ import annotations

import array
import string
import tempfile
from pathlib import Path

import pysam
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_decode_oracle import assert_decodes_like_pysam, write_bam

QNAME_CHARS = "".join(chr(c) for c in range(ord("!"), ord("~") + 1) if chr(c) != "@")
PRINTABLE = "".join(chr(c) for c in range(ord(" "), ord("~") + 1))
INTEGER_RANGES = {"c": (-128, 127), "C": (0, 255), "s": (-32768, 32767), "S": (0, 65535),
                  "i": (-2**31, 2**31 - 1), "I": (0, 2**32 - 1)}
ARRAY_TYPECODES = {"c": "b", "C": "B", "s": "h", "S": "H", "i": "i", "I": "I", "f": "f"}
QUERY_OPS, OTHER_OPS = "MIS=X", "DNHP"

floats32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


def tag_values():
    integer = st.sampled_from(sorted(INTEGER_RANGES)).flatmap(
        lambda t: st.tuples(st.integers(*INTEGER_RANGES[t]), st.just(t)))
    array_value = st.sampled_from(sorted(ARRAY_TYPECODES)).flatmap(
        lambda t: st.lists(floats32 if t == "f" else st.integers(*INTEGER_RANGES[t]), max_size=6).map(
            lambda values: (array.array(ARRAY_TYPECODES[t], values), None)))
    return st.one_of(
        integer,
        st.tuples(st.sampled_from(PRINTABLE.strip()), st.just("A")),
        st.tuples(floats32, st.just("f")),
        st.tuples(st.text(PRINTABLE, max_size=12), st.just("Z")),
        st.tuples(st.lists(st.sampled_from("0123456789ABCDEF"), max_size=6).map(lambda h: "".join(h * 2)),
                  st.just("H")),
        array_value,
    )


tag_keys = st.tuples(st.sampled_from(string.ascii_letters), st.sampled_from(string.ascii_letters + string.digits)).map(
    "".join).filter(lambda key: key != "CG")


@st.composite
def records(draw):
    cigar = draw(st.one_of(st.none(), st.lists(
        st.tuples(st.integers(0, 300), st.sampled_from(QUERY_OPS + OTHER_OPS)), min_size=1, max_size=8)))
    query_length = sum(n for n, op in cigar or [] if op in QUERY_OPS) if cigar else draw(st.integers(0, 40))
    has_seq = draw(st.booleans()) and query_length > 0
    tags = draw(st.dictionaries(tag_keys, tag_values(), max_size=8))
    return dict(
        name=draw(st.text(QNAME_CHARS, min_size=1, max_size=30)),
        flag=draw(st.integers(0, 0xFFFF)),
        ref=draw(st.integers(-1, 2)),
        pos=draw(st.integers(-1, 10**6)),
        mapq=draw(st.integers(0, 255)),
        cigar=None if cigar is None else "".join(f"{n}{op}" for n, op in cigar),
        seq="".join(draw(st.lists(st.sampled_from("=ACMGRSVTWYHKDBN"), min_size=query_length, max_size=query_length)))
        if has_seq else None,
        quals=draw(st.lists(st.integers(0, 93), min_size=query_length, max_size=query_length))
        if has_seq and draw(st.booleans()) else None,
        next_ref=draw(st.integers(-1, 2)),
        next_pos=draw(st.integers(-1, 10**6)),
        tlen=draw(st.integers(-2**31 + 1, 2**31 - 1)),
        tags=[(key, value, value_type) for key, (value, value_type) in tags.items()],
    )


def segment_from(header, spec):
    segment = pysam.AlignedSegment(header)
    segment.query_name = spec["name"]
    segment.flag = spec["flag"]
    segment.reference_id = spec["ref"]
    segment.reference_start = spec["pos"]
    segment.mapping_quality = spec["mapq"]
    segment.cigarstring = spec["cigar"]
    segment.query_sequence = spec["seq"]
    if spec["quals"] is not None:
        segment.query_qualities = array.array("B", spec["quals"])
    segment.next_reference_id = spec["next_ref"]
    segment.next_reference_start = spec["next_pos"]
    segment.template_length = spec["tlen"]
    for key, value, value_type in spec["tags"]:
        segment.set_tag(key, value, value_type)
    return segment


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(records(), min_size=1, max_size=25))
def test_random_records_decode_like_pysam(specs):
    with tempfile.TemporaryDirectory() as folder:
        path = write_bam(Path(folder) / "random.bam", lambda h: [segment_from(h, spec) for spec in specs])
        assert_decodes_like_pysam(path)
