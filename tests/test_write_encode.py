"""The record encoder: defaults for missing columns, tag types, long CIGARs, bad rows, CSI."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pysam
import pytest

from write_helpers import fetched, quickcheck, sam_records, samtools_index

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.write.commit import commit
from sparkbam_py.write.encode import encode_batch
from sparkbam_py.write.errors import HeaderMismatchError, RecordEncodeError
from sparkbam_py.write.header import header_from_text
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.tag_encode import integer_codes

HEADER = "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:100000\n@SQ\tSN:chr2\tLN:50000\n"
TAGS = pa.map_(pa.string(), pa.string())


def write_rows(tmp_path, rows, header_text=HEADER, name="out.bam"):
    """Write a list of row dicts (a subset of the read schema) as one BAM; its path."""
    header = header_from_text(header_text)
    batch = pa.RecordBatch.from_pylist(rows, schema=_schema_of(rows))
    job = WriteJob.create(str(tmp_path / name), header, overwrite=True)
    commit(job, [job.write_part([batch], 0, 1)])
    return tmp_path / name


def _schema_of(rows):
    types = {"query_name": pa.string(), "flag": pa.int32(), "reference_name": pa.string(),
             "reference_start": pa.int32(), "mapping_quality": pa.int32(), "cigar": pa.string(),
             "next_reference_name": pa.string(), "next_reference_start": pa.int32(),
             "template_length": pa.int32(), "query_sequence": pa.string(), "query_qualities": pa.string(),
             "tags": TAGS}
    return pa.schema([(name, types[name]) for name in rows[0]])


def test_missing_columns_take_sam_unavailable_values(tmp_path):
    out = write_rows(tmp_path, [{"query_name": "r1", "query_sequence": "ACGTN"}, {"query_name": "r2"}])
    assert sam_records(out) == [b"r1\t0\t*\t0\t0\t*\t*\t0\t0\tACGTN\t*", b"r2\t0\t*\t0\t0\t*\t*\t0\t0\t*\t*"]
    assert quickcheck(out)


def test_every_tag_type_round_trips_as_sam_text(tmp_path):
    tags = [("XA", "A:q"), ("XB", "i:-129"), ("XC", "i:4294967295"), ("XD", "f:0.1"), ("XE", "Z:a b"),
            ("XF", "H:1AE3"), ("XG", "B:c,-1,2"), ("XH", "B:I,0,4294967295"), ("XI", "B:f,1.5,-0.25"),
            ("XJ", "B:s"), ("XK", "Z:"), ("XL", "f:-nan"), ("XM", "f:1e+06"), ("XN", "i:0")]
    out = write_rows(tmp_path, [{"query_name": "r", "flag": 4, "tags": tags}])
    line = sam_records(out)[0].decode()
    assert line.split("\t")[11:] == [f"{k}:{v}" for k, v in tags]
    with pysam.AlignmentFile(str(out), check_sq=False) as bam:
        read = next(bam)
        assert read.get_tag("XB", with_value_type=True) == (-129, "s")
        assert read.get_tag("XC", with_value_type=True) == (4294967295, "I")
        assert read.get_tag("XH", with_value_type=True)[1] == "BI"


def test_integer_widths_are_htslibs_choice():
    values = np.array([-(2**31), -32769, -32768, -129, -128, -1, 0, 255, 256, 65535, 65536, 2**32 - 1])
    assert bytes(integer_codes(values)).decode() == "iissccCCSSII"


def test_long_cigar_goes_to_the_cg_tag_and_comes_back(tmp_path):
    ops = 70_000
    cigar = "1M1I" * (ops // 2)
    sequence = "A" * ops
    rows = [{"query_name": "long", "flag": 0, "reference_name": "chr1", "reference_start": 10, "cigar": cigar,
             "query_sequence": sequence, "tags": [("NM", "i:1")]}]
    out = write_rows(tmp_path, rows)
    with pysam.AlignmentFile(str(out)) as bam:
        read = next(bam)
        assert read.cigarstring == cigar and not read.has_tag("CG")
        assert read.get_tag("NM") == 1
    batch = pa.RecordBatch.from_pylist(rows, schema=_schema_of(rows))
    encoded = encode_batch(batch, pa.array(["chr1", "chr2"]))
    stored = np.frombuffer(encoded.data[36 + 5: 36 + 5 + 8], dtype="<u4")
    assert [(int(v) >> 4, int(v) & 15) for v in stored] == [(ops, 4), (ops // 2, 3)]  # 70000S 35000N


@pytest.mark.parametrize("row,message", [
    ({"query_name": "r", "reference_name": "chrX"}, "chrX"),
    ({"query_name": "r", "cigar": "10Q"}, "not one of"),
    ({"query_name": "r", "cigar": "M"}, "without a length"),
    ({"query_name": "r", "cigar": "10M5"}, "ends with a number"),
    ({"query_name": "r", "query_sequence": "ACG", "query_qualities": "II"}, "2 qualities for 3 bases"),
    ({"query_name": "x" * 255}, "longer than 254"),
    ({"query_name": "r", "tags": [("NM", "i:abc")]}, "not an integer"),
    ({"query_name": "r", "tags": [("NM", "q:1")]}, "unknown tag type"),
    ({"query_name": "r", "tags": [("NMX", "i:1")]}, "two characters"),
    ({"query_name": "r", "tags": [("NM", "i:4294967296")]}, r"2\^32-1"),
    ({"query_name": "r", "tags": [("ZB", "B:c,1,300")]}, "does not fit"),
    ({"query_name": "r", "tags": [("ZB", "B:q,1")]}, "unknown B subtype"),
    ({"query_name": "r", "tags": [("XA", "A:xy")]}, "exactly one character"),
    ({"query_name": "r", "mapping_quality": 256}, "mapping_quality"),
])
def test_bad_rows_are_clear_errors(tmp_path, row, message):
    with pytest.raises((RecordEncodeError, HeaderMismatchError), match=message):
        write_rows(tmp_path, [row])
    assert not (tmp_path / "out.bam").exists()


def test_decoded_records_encode_to_identical_bytes():
    """A record that htslib wrote with minimal integer widths comes back byte for byte."""
    header = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "chr1", "LN": 1000}]})
    read = pysam.AlignedSegment(header)
    read.query_name, read.flag, read.reference_id, read.reference_start = "q1", 99, 0, 17
    read.cigarstring, read.query_sequence, read.mapping_quality = "3M1D2M", "ACGTA", 60
    read.query_qualities = pysam.qualitystring_to_array("IIIII")
    read.next_reference_id, read.next_reference_start, read.template_length = 0, 40, 33
    read.set_tags([("NM", 1, "C"), ("XS", -3, "c"), ("RG", "g", "Z")])
    raw = np.frombuffer(_bam_bytes(read), dtype=np.uint8)
    batch = decode_records(raw, np.array([0]), ["chr1"])
    encoded = encode_batch(batch, pa.array(["chr1"]))
    assert encoded.data.tobytes() == raw.tobytes()


def _bam_bytes(read) -> bytes:
    """The record's BAM bytes (block_size first), through pysam's own writer."""
    import gzip
    import io
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".bam") as handle:
        with pysam.AlignmentFile(handle.name, "wb", header=read.header) as out:
            out.write(read)
        stream = gzip.decompress(open(handle.name, "rb").read())
    reader = io.BytesIO(stream)
    reader.seek(4)
    l_text = int.from_bytes(reader.read(4), "little")
    reader.seek(l_text, 1)
    n_ref = int.from_bytes(reader.read(4), "little")
    for _ in range(n_ref):
        reader.seek(int.from_bytes(reader.read(4), "little") + 4, 1)
    return reader.read()


def test_contig_past_2_29_gets_a_csi_that_fetches_like_samtools(tmp_path):
    length = 1_200_000_000
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:big\tLN:{length}\n@SQ\tSN:small\tLN:5000\n"
    rng = np.random.default_rng(3)
    starts = np.sort(rng.integers(0, length - 1000, 400))
    rows = [{"query_name": f"r{i}", "flag": 0, "reference_name": "big", "reference_start": int(s),
             "cigar": "50M", "query_sequence": "A" * 50} for i, s in enumerate(starts)]
    rows.append({"query_name": "u", "flag": 4, "reference_name": None, "reference_start": -1,
                 "cigar": None, "query_sequence": "C" * 10})
    out = write_rows(tmp_path, rows, header)
    assert (tmp_path / "out.bam.csi").exists() and not (tmp_path / "out.bam.bai").exists()
    reference = samtools_index(out, tmp_path / "samtools.csi", csi=True)
    for start in list(starts[::37]) + [0, 600_000_000, length - 2000]:
        for span in (1, 10_000, 50_000_000):
            region = ("big", int(start), int(min(length, start + span)))
            assert fetched(out, str(out) + ".csi", *region) == fetched(out, reference, *region), region
