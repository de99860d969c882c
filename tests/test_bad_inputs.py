"""Every kind of bad input gives a typed error naming path and offset: never a short result, never a hang."""
import gzip

import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.constants import EOF_MARKER
from sparkbam_py.bgzf.writer import BgzfWriter, compress_block
from sparkbam_py.errors import (
    CorruptBlockError,
    CorruptDataError,
    MissingInputError,
    NotBgzfError,
    SparkBamError,
    TruncatedError,
    WrongFormatError,
)


def read_everything(path):
    with open_bam(str(path)) as bam:
        return bam.count_records()


def bgzf(path, payload: bytes):
    with BgzfWriter(path) as writer:
        writer.write(payload)
    return path


@pytest.mark.parametrize(
    "name, content, error, words",
    [
        ("empty.bam", b"", NotBgzfError, "empty"),
        ("plain.bam", gzip.compress(b"BAM\x01" + bytes(100)), NotBgzfError, "gzip, but not BGZF"),
        ("sam.bam", b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\n", NotBgzfError, "SAM"),
        ("cram.bam", b"CRAM\x03\x00" + bytes(200), NotBgzfError, "CRAM"),
        ("raw.bam", b"BAM\x01" + bytes(60), NotBgzfError, "uncompressed BAM"),
        ("random.bam", bytes(range(256)) * 4, NotBgzfError, "not BGZF"),
    ],
)
def test_not_bgzf_inputs(tmp_path, name, content, error, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=words) as info:
        read_everything(path)
    assert str(path) in str(info.value) and "compressed byte 0" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bgzf_text_is_the_wrong_format(tmp_path):
    path = bgzf(tmp_path / "x.sam.gz", b"@HD\tVN:1.6\n")
    with pytest.raises(WrongFormatError, match="not BAM"):
        read_everything(path)
    vcf = bgzf(tmp_path / "x.vcf.gz", b"##fileformat=VCFv4.2\n")
    with pytest.raises(WrongFormatError, match="VCF"):
        read_everything(vcf)


def test_missing_file(tmp_path):
    with pytest.raises(MissingInputError) as info:
        read_everything(tmp_path / "nope.bam")
    assert isinstance(info.value, FileNotFoundError) and "nope.bam" in str(info.value)


def test_truncated_fixture_is_an_error_naming_the_cut(bam_fixtures):
    for name, fixture in bam_fixtures.items():
        if fixture.layout != "truncated" or fixture.n_records == 0:
            continue
        with pytest.raises(TruncatedError) as info:
            read_everything(fixture.path)
        assert isinstance(info.value, EOFError) and str(fixture.path) in str(info.value), name


def test_truncated_inside_a_record_with_intact_blocks(tmp_path, bam_fixtures):
    """Cut exactly at a block boundary in the middle of a record: every block is whole,
    yet the data ends inside a record."""
    fixture = bam_fixtures["short_reads.tiny_blocks"]
    record_starts = set(fixture.record_pos)
    cut = next(start for start in fixture.block_starts
               if start > fixture.header_end.block_pos and (start, 0) not in record_starts)
    path = tmp_path / "cut.bam"
    path.write_bytes(fixture.path.read_bytes()[:cut] + EOF_MARKER)
    with pytest.raises(TruncatedError, match="into a record"):
        read_everything(path)


def test_corrupt_deflate_in_the_middle(tmp_path, bam_fixtures):
    fixture = bam_fixtures["short_reads.block_aligned"]
    data = bytearray(fixture.path.read_bytes())
    victim = fixture.block_starts[len(fixture.block_starts) // 2]
    data[victim + 40 : victim + 60] = bytes(20)
    path = tmp_path / "corrupt.bam"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlockError) as info:
        read_everything(path)
    assert info.value.where == victim


def test_impossible_block_size_is_corruption(tmp_path):
    header = b"BAM\x01" + (0).to_bytes(4, "little") + (0).to_bytes(4, "little")
    path = tmp_path / "tiny.bam"
    path.write_bytes(compress_block(header + (5).to_bytes(4, "little") + bytes(40)) + EOF_MARKER)
    with pytest.raises(CorruptDataError, match="block_size 5") as info:
        read_everything(path)
    assert str(info.value.where) == "0:12"


def test_every_error_is_one_family():
    for cls in (NotBgzfError, WrongFormatError, CorruptBlockError, TruncatedError, MissingInputError):
        assert issubclass(cls, SparkBamError)
