"""The oracle for decoder tests: BAMs written by pysam, read back raw, and pysam's view of them.

Helpers (imported by the other test_decode_* files) and the tests of the helpers themselves.
"""
from __future__ import annotations

import gzip
import struct
from typing import Callable, Iterable, List, Sequence, Tuple

import numpy as np
import pysam

from sparkbam_py.bam.decode import decode_records

REFERENCES = (("chr1", 248_956_422), ("chr2", 242_193_529), ("chrM", 16_569))


def write_bam(path, build: Callable[[pysam.AlignmentHeader], Iterable[pysam.AlignedSegment]], references=REFERENCES):
    """Write the segments ``build(header)`` returns to a BAM at ``path`` (unsorted)."""
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6"}, "SQ": [{"SN": name, "LN": length} for name, length in references]}
    )
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for segment in build(header):
            out.write(segment)
    return path


def make_segment(header, name="r", flag=0, ref=0, pos=100, mapq=60, cigar="4M", seq="ACGT", quals=(30,) * 4,
                 next_ref=-1, next_pos=-1, tlen=0, tags=()):
    """An AlignedSegment from plain values; ``tags`` are (key, value, pysam type or None)."""
    segment = pysam.AlignedSegment(header)
    segment.query_name = name
    segment.flag = flag
    segment.reference_id = ref
    segment.reference_start = pos
    segment.mapping_quality = mapq
    segment.cigarstring = cigar
    segment.query_sequence = seq
    if quals is not None:
        segment.query_qualities = pysam.qualitystring_to_array("".join(chr(q + 33) for q in quals))
    segment.next_reference_id = next_ref
    segment.next_reference_start = next_pos
    segment.template_length = tlen
    for key, value, value_type in tags:
        if value_type is None:
            segment.set_tag(key, value)
        else:
            segment.set_tag(key, value, value_type)
    return segment


def read_raw_records(path) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """The inflated BAM after its header, the offset of each record, and the reference names."""
    raw = gzip.decompress(open(path, "rb").read())  # a BAM is a multi-member gzip file
    assert raw[:4] == b"BAM\x01"
    (l_text,) = struct.unpack_from("<i", raw, 4)
    at = 8 + l_text
    (n_ref,) = struct.unpack_from("<i", raw, at)
    at += 4
    names = []
    for _ in range(n_ref):
        (l_name,) = struct.unpack_from("<i", raw, at)
        names.append(raw[at + 4 : at + 4 + l_name - 1].decode())
        at += 4 + l_name + 4
    offsets = []
    while at < len(raw):
        offsets.append(at)
        (block_size,) = struct.unpack_from("<i", raw, at)
        at += 4 + block_size
    return np.frombuffer(raw, dtype=np.uint8), np.array(offsets, dtype=np.int64), names


def sam_tags(segment: pysam.AlignedSegment) -> dict:
    """The tags as SAM text (``TAG -> TYPE:VALUE``), the way htslib prints them."""
    fields = segment.to_string().split("\t")[11:]
    return {field[:2]: field[3:] for field in fields}


def expected_row(segment: pysam.AlignedSegment) -> dict:
    """pysam's reading of a record, in the decoder's column vocabulary."""
    qualities = segment.query_qualities
    return {
        "query_name": segment.query_name,
        "flag": segment.flag,
        "reference_name": segment.reference_name,
        "reference_start": segment.reference_start,
        "reference_end": segment.reference_end,
        "mapping_quality": segment.mapping_quality,
        "cigar": segment.cigarstring,
        "next_reference_name": segment.next_reference_name,
        "next_reference_start": segment.next_reference_start,
        "template_length": segment.template_length,
        "query_sequence": segment.query_sequence,
        "query_qualities": None if qualities is None else "".join(chr(q + 33) for q in qualities),
        "tags": sam_tags(segment),
    }


def expected_rows(path) -> List[dict]:
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        return [expected_row(segment) for segment in bam.fetch(until_eof=True)]


def decoded_rows(batch) -> List[dict]:
    rows = batch.to_pylist()
    for row in rows:
        if "tags" in row:
            row["tags"] = dict(row["tags"])
    return rows


def decode_file(path, columns: Sequence[str] = None, **kwargs):
    data, offsets, names = read_raw_records(path)
    return decode_records(data, offsets, names, columns, **kwargs)


def assert_decodes_like_pysam(path, columns: Sequence[str] = None):
    """Every requested column of every record equals pysam's reading of the file."""
    batch = decode_file(path, columns)
    expected = expected_rows(path)
    got = decoded_rows(batch)
    assert len(got) == len(expected)
    for index, (row, want) in enumerate(zip(got, expected)):
        for name, value in row.items():
            assert value == want[name], f"record {index} ({want['query_name']}) column {name}"
    return batch


def test_raw_reader_finds_every_record(tmp_path):
    path = write_bam(tmp_path / "a.bam", lambda h: [make_segment(h, name=f"r{i}") for i in range(3)])
    data, offsets, names = read_raw_records(path)
    assert names == [name for name, _ in REFERENCES]
    assert len(offsets) == 3
    first_block_size = struct.unpack_from("<i", data.tobytes(), int(offsets[0]))[0]
    assert offsets[1] == offsets[0] + 4 + first_block_size


def test_sam_tags_prints_integers_as_i(tmp_path):
    header = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "c", "LN": 10}]})
    segment = make_segment(header, tags=[("XS", 7, "S"), ("XZ", "hi", "Z")])
    assert sam_tags(segment) == {"XS": "i:7", "XZ": "Z:hi"}
