"""Typed tags: declared or discovered, read as pysam reads them, converted only where lossless."""
from __future__ import annotations

import array
import random

import pysam
import pytest

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.typed_tags import TagSpec, TagTypeError, discover_tags
from sparkbam_py.errors import ConfigError
from sparkbam_py.bam.columns import ColumnPlan
from sparkbam_py.spark.schemas import spark_of

HEADER = {"SQ": [{"SN": "chr1", "LN": 10_000}]}


def write_bam(path, tag_lists):
    header = pysam.AlignmentHeader.from_dict(HEADER)
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for index, tags in enumerate(tag_lists):
            segment = pysam.AlignedSegment(header)
            segment.query_name = f"r{index}"
            segment.flag = 4
            segment.reference_id = -1
            segment.reference_start = -1
            segment.query_sequence = "ACGT"
            for tag, value, kind in tags:
                segment.set_tag(tag, value, kind)
            out.write(segment)
    return path


def decode(path, spec):
    with open_bam(str(path)) as bam:
        return [row for chunk in bam.iter_record_chunks()
                for row in decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names, ["query_name"],
                                          path=str(path), typed_tags=TagSpec.parse(spec)).column("typed_tags").to_pylist()]


def random_tags(rng):
    tags = [("NM", rng.randrange(0, 120), rng.choice("cCsSiI")), ("AS", rng.randrange(-300, 300), rng.choice("si")),
            ("XF", rng.choice([0.5, -2.25, 1e-3]), "f"), ("MD", f"{rng.randrange(99)}A0", "Z"), ("XA", "K", "A"),
            ("XH", "1AE3", "H"), ("ML", array.array("B", [rng.randrange(256) for _ in range(rng.randrange(5))]), None),
            ("FL", array.array("f", [0.25, rng.randrange(9)]), None), ("ZS", array.array("h", [-3, 7]), None)]
    return [tag for tag in tags if rng.random() < 0.8]  # some records lack some tags


def test_values_equal_pysams(tmp_path):
    rng = random.Random(3)
    tag_lists = [random_tags(rng) for _ in range(300)]
    path = write_bam(tmp_path / "t.bam", tag_lists)
    spec = "NM:i,AS:i,XF:f,MD:Z,XA:A,XH:H,ML:B:i,FL:B:f,ZS:B,ZZ:i"
    got = decode(path, spec)
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        for row, segment in zip(got, bam.fetch(until_eof=True)):
            for tag, kind in TagSpec.parse(spec).fields:
                expected = segment.get_tag(tag) if segment.has_tag(tag) else None
                if kind.startswith("B") and expected is not None:
                    expected = list(expected)
                assert row[tag] == (pytest.approx(expected) if kind.endswith("f") and expected is not None
                                    else expected), (segment.query_name, tag)
    assert len(got) == 300


def test_lossless_conversions(tmp_path):
    path = write_bam(tmp_path / "t.bam", [[("XA", "K", "A"), ("NM", 7, "C"), ("ML", array.array("B", [1, 2]), None),
                                           ("XU", 4_000_000_000, "I")]])
    assert decode(path, "XA:Z,NM:f,ML:B:f,XU:i") == [{"XA": "K", "NM": 7.0, "ML": [1.0, 2.0], "XU": 4_000_000_000}]


@pytest.mark.parametrize("tags, spec, message", [
    ([("MD", "10A5", "Z")], "MD:i", "tag MD is stored as type Z"),
    ([("XF", 0.5, "f")], "XF:i", "stored as type f"),
    ([("XB", 2**25 + 1, "i")], "XB:f", "too large for float32"),
    ([("FL", array.array("f", [0.5]), None)], "FL:B:i", "float array"),
])
def test_lossy_conversions_are_typed_errors_naming_the_record(tmp_path, tags, spec, message):
    path = write_bam(tmp_path / "t.bam", [[], tags])
    with pytest.raises(TagTypeError, match=message) as caught:
        decode(path, spec)
    assert "record 1 of the batch" in str(caught.value) and "t.bam" in str(caught.value)


def test_discovery_types_tags_by_first_occurrence(tmp_path):
    path = write_bam(tmp_path / "t.bam", [[("NM", 1, "C"), ("MD", "4", "Z")], [("ML", array.array("B", [1]), None),
                                                                             ("XF", 0.5, "f"), ("NM", 2, "i")]])
    assert str(discover_tags(str(path))) == "NM:i,MD:Z,ML:B:i,XF:f"
    assert str(discover_tags(str(path), records=1)) == "NM:i,MD:Z"


@pytest.mark.parametrize("spec", ["NM", "NM:q", "N:i", "NM:i,NM:Z", "1M:i"])
def test_malformed_declarations_are_refused(spec):
    with pytest.raises(ConfigError):
        TagSpec.parse(spec)


def test_the_plan_carries_the_struct_type():
    plan = ColumnPlan.of(tags=TagSpec.parse("NM:i,ML:B:i"))
    assert plan.arrow_schema.names[-1] == "typed_tags"
    assert str(spark_of(plan.arrow_schema)["typed_tags"].dataType.simpleString()) == "struct<NM:bigint,ML:array<bigint>>"
    with pytest.raises(ConfigError, match="tags option"):
        ColumnPlan.of(["typed_tags"])
