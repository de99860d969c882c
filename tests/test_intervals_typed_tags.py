"""Interval reads carry the ``typed_tags`` struct: exactly the whole-file decode's values for
exactly pysam's reads of the regions."""
from __future__ import annotations

import array
import random

import pysam
import pytest

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.typed_tags import TagSpec
from sparkbam_py.intervals import plan_interval_partitions, read_interval_partition

REFERENCES = [("chrA", 200_000), ("chrB", 150_000)]
SPEC = "NM:i,MD:Z,AS:i,XF:f,ZB:B"


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    path = tmp_path_factory.mktemp("typed_intervals") / "tagged.bam"
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": n, "LN": ln} for n, ln in REFERENCES]})
    rng = random.Random(5)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(3_000):
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id = f"r{i}", rng.randrange(2)
            read.reference_start, read.mapping_quality = rng.randrange(140_000), 40
            read.cigarstring, read.query_sequence = "50M", "".join(rng.choice("ACGT") for _ in range(50))
            if rng.random() < 0.9:
                read.set_tag("NM", rng.randrange(5), "C" if rng.random() < 0.5 else "i")
            if rng.random() < 0.7:
                read.set_tag("MD", f"{rng.randrange(50)}A{rng.randrange(9)}", "Z")
            read.set_tag("AS", rng.randrange(-3, 60), "i")
            if rng.random() < 0.3:
                read.set_tag("XF", rng.random(), "f")
            if rng.random() < 0.3:
                read.set_tag("ZB", array.array("i", [rng.randrange(100) for _ in range(rng.randrange(1, 4))]))
            out.write(read)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


def whole_file_typed(path):
    """query_name -> typed struct, from one decode of every record."""
    with open_bam(str(path)) as bam:
        rows = {}
        for chunk in bam.iter_record_chunks():
            batch = decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names, ["query_name"],
                                   typed_tags=TagSpec.parse(SPEC))
            rows.update(zip(batch.column("query_name").to_pylist(), batch.column("typed_tags").to_pylist()))
        return rows


@pytest.mark.parametrize("regions", [["chrA:1000-30000"], ["chrB", "chrA:100000-100500"], ["chrA:5-6"]])
@pytest.mark.parametrize("split_size", [20_000, 10_000_000])
def test_interval_reads_carry_the_typed_struct(tagged, regions, split_size):
    truth = whole_file_typed(tagged)
    got = {}
    for partition in plan_interval_partitions(str(tagged), regions, split_size):
        for batch in read_interval_partition(partition, ["query_name"], typed_tags=TagSpec.parse(SPEC)):
            assert batch.schema.names == ["query_name", "typed_tags"]
            for name, struct in zip(batch.column("query_name").to_pylist(), batch.column("typed_tags").to_pylist()):
                assert name not in got, f"{name} read twice"
                got[name] = struct
    with pysam.AlignmentFile(str(tagged)) as bam:
        expected = {read.query_name for region in regions for read in bam.fetch(region=region)}
    assert set(got) == expected
    assert got == {name: truth[name] for name in expected}
