"""The BGZF writer: blocks any gzip reader accepts, exact layouts, htslib's tell convention."""
from __future__ import annotations

import gzip
import io
import os
import zlib

import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.bgzf_walk import BC_ID, DEFLATE_BTYPE_STORED, parse_block, walk_blocks
from fixtures.content import short_reads
from write_helpers import sam_records
from sparkbam_py.bgzf.constants import (
    EOF_MARKER,
    FIXED_HEADER_SIZE,
    MAX_BLOCK_SIZE,
    MAX_INFLATED_SIZE,
    STANDARD_XLEN,
    XLEN_OFFSET,
)
from sparkbam_py.bgzf.writer import (
    BACKENDS,
    DEFAULT_BLOCK_DATA_SIZE,
    LIBDEFLATE_BACKEND,
    BgzfWriter,
    WrittenBlock,
    compress_block,
    default_backend,
    libdeflate_level,
    make_extra_subfield,
)
from sparkbam_py.pos import Pos

TEXT = b"the quick brown fox jumps over the lazy dog\n" * 200


def incompressible(n: int) -> bytes:
    return os.urandom(n)


# -- compress_block ---------------------------------------------------------------------
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_block_round_trips_through_gzip_with_right_fields(level):
    block = compress_block(TEXT, level)
    parsed = parse_block(block, 0)
    assert gzip.decompress(block) == TEXT
    assert parsed.size == len(block)  # BSIZE + 1
    assert parsed.isize == len(TEXT)
    assert parsed.crc32 == zlib.crc32(TEXT)
    assert parsed.subfield_ids == [BC_ID]
    assert int.from_bytes(block[XLEN_OFFSET : XLEN_OFFSET + 2], "little") == STANDARD_XLEN


def test_level_zero_stores_the_data_verbatim():
    block = compress_block(TEXT, 0)
    parsed = parse_block(block, 0)
    assert parsed.first_deflate_btype == DEFLATE_BTYPE_STORED
    assert TEXT in block
    assert parse_block(compress_block(TEXT, 6), 0).first_deflate_btype != DEFLATE_BTYPE_STORED


def test_empty_block_at_default_level_is_the_eof_marker():
    assert compress_block(b"") == EOF_MARKER
    assert gzip.decompress(compress_block(b"", 0)) == b""


def test_foreign_subfields_come_before_bc():
    extra = make_extra_subfield(b"XY", b"1234") + make_extra_subfield(b"ZZ")
    block = compress_block(TEXT, 6, extra)
    parsed = parse_block(block, 0)
    assert parsed.subfield_ids == [b"XY", b"ZZ", BC_ID]
    assert block[FIXED_HEADER_SIZE : FIXED_HEADER_SIZE + 2] == b"XY"
    assert parsed.size == len(block)
    assert gzip.decompress(block) == TEXT


def test_make_extra_subfield_refuses_bc_and_bad_identifiers():
    with pytest.raises(ValueError):
        make_extra_subfield(b"BC", b"\x00\x00")
    with pytest.raises(ValueError):
        make_extra_subfield(b"X")


def test_incompressible_data_falls_back_to_a_stored_block():
    data = incompressible(DEFAULT_BLOCK_DATA_SIZE)
    block = compress_block(data, 9)
    assert len(block) <= MAX_BLOCK_SIZE
    assert parse_block(block, 0).first_deflate_btype == DEFLATE_BTYPE_STORED
    assert gzip.decompress(block) == data


def test_a_full_64k_of_compressible_data_fits():
    data = bytes(MAX_INFLATED_SIZE)
    assert gzip.decompress(compress_block(data)) == data


@pytest.mark.parametrize("data", [bytes(MAX_INFLATED_SIZE + 1), incompressible(MAX_INFLATED_SIZE)])
def test_blocks_that_cannot_fit_are_refused(data):
    with pytest.raises(ValueError):
        compress_block(data)


# -- BgzfWriter -------------------------------------------------------------------------
def written(target: io.BytesIO) -> bytes:
    return target.getvalue()


def test_write_cuts_blocks_at_block_data_size_and_tells_htslib_positions():
    out = io.BytesIO()
    with BgzfWriter(out, block_data_size=1000) as writer:
        assert writer.tell_virtual() == Pos(0, 0)
        writer.write(b"a" * 999)
        assert writer.tell_virtual() == Pos(0, 999)
        writer.write(b"b")  # fills the block: it is emitted, and the position moves on
        first = writer.blocks[0]
        assert writer.tell_virtual() == Pos(first.compressed_size, 0)
        writer.write(b"c" * 2500)
        assert [b.uncompressed_size for b in writer.blocks] == [1000, 1000, 1000]
        assert writer.tell_virtual() == Pos(writer.tell(), 500)
    data = written(out)
    assert data.endswith(EOF_MARKER)
    assert gzip.decompress(data) == b"a" * 999 + b"b" + b"c" * 2500
    assert [b.start for b in walk_blocks(data)][:-1] == [b.start for b in writer.blocks]


def test_flush_write_block_and_empty_blocks_make_exactly_the_asked_layout():
    out = io.BytesIO()
    writer = BgzfWriter(out)
    writer.write(b"pending")
    writer.flush_block()
    writer.flush_block()  # nothing buffered: no block
    writer.write(b"more")
    exact = writer.write_block(b"exactly this", level=0)  # flushes "more" first
    empty = writer.write_empty_block()
    writer.close(eof_marker=False)
    data = written(out)
    assert [b.uncompressed_size for b in writer.blocks] == [7, 4, 12, 0]
    assert isinstance(exact, WrittenBlock) and empty.uncompressed_size == 0
    raw = walk_blocks(data)
    assert [b.inflate() for b in raw] == [b"pending", b"more", b"exactly this", b""]
    assert raw[2].first_deflate_btype == DEFLATE_BTYPE_STORED
    # The last block is empty, so it looks like an EOF marker, but no marker was added.
    assert writer.tell() == len(data) == sum(b.compressed_size for b in writer.blocks)


def test_writer_counts_offsets_from_the_file_objects_position_and_leaves_it_open():
    out = io.BytesIO()
    out.write(b"prefix")
    with BgzfWriter(out) as writer:
        writer.write_block(b"x")
    assert writer.blocks[0].start == len(b"prefix")
    assert not out.closed
    with pytest.raises(ValueError):
        writer.write(b"late")


def test_writer_opens_and_closes_a_path(tmp_path):
    path = tmp_path / "x.gz"
    with BgzfWriter(path, extra_subfields=make_extra_subfield(b"XY", b"!")) as writer:
        writer.write(TEXT)
    assert gzip.decompress(path.read_bytes()) == TEXT
    assert walk_blocks(path.read_bytes())[0].subfield_ids == [b"XY", BC_ID]


@pytest.mark.parametrize("size", [0, MAX_INFLATED_SIZE + 1])
def test_block_data_size_must_fit_a_block(size):
    with pytest.raises(ValueError):
        BgzfWriter(io.BytesIO(), block_data_size=size)


@settings(max_examples=40, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=3000), max_size=12),
    block_data_size=st.integers(1, 4000),
    flush_after=st.sets(st.integers(0, 11)),
)
def test_any_sequence_of_writes_round_trips(chunks, block_data_size, flush_after):
    out = io.BytesIO()
    positions = []
    with BgzfWriter(out, level=1, block_data_size=block_data_size) as writer:
        for index, chunk in enumerate(chunks):
            positions.append(writer.tell_virtual())
            writer.write(chunk)
            if index in flush_after:
                writer.flush_block()
    data = written(out)
    assert gzip.decompress(data) == b"".join(chunks)
    assert all(0 < b.uncompressed_size <= block_data_size for b in writer.blocks)
    # Map each block start (and the EOF marker's) to the inflated offset where it begins.
    data_start, total = {}, 0
    for block in writer.blocks:
        data_start[block.start] = total
        total += block.uncompressed_size
    data_start[len(data) - len(EOF_MARKER)] = total
    expected, offset = [], 0
    for chunk in chunks:
        expected.append(offset)
        offset += len(chunk)
    assert [data_start[pos.block_pos] + pos.offset for pos in positions] == expected
    assert all(pos.offset < block_data_size for pos in positions)


def test_pysam_reads_a_bam_written_htslib_style_and_agrees_on_every_position(tmp_path):
    content = short_reads(300, seed=21)
    path = tmp_path / "written.bam"
    positions = []
    with BgzfWriter(path) as writer:
        writer.write(content.header)
        writer.flush_block()  # htslib: the first record starts a block
        for record in content.records:
            if writer.tell_virtual().offset + len(record) > writer.block_data_size:
                writer.flush_block()
            positions.append(writer.tell_virtual())
            writer.write(record)
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        seen = []
        for _ in range(len(content.records)):
            seen.append(Pos.from_virtual(bam.tell()))
            next(bam)
        with pytest.raises(StopIteration):
            next(bam)
    assert seen == positions
    assert positions[0] == Pos(writer.blocks[0].compressed_size, 0)


# -- deflate backends ---------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("level", [1, 6, 9])
def test_every_backend_writes_blocks_gzip_reads_back(backend, level):
    block = compress_block(TEXT, level, backend=backend)
    assert gzip.decompress(block) == TEXT
    assert parse_block(block, 0).crc32 == zlib.crc32(TEXT)


def test_libdeflate_levels_are_htslibs_and_its_blocks_are_its_bytes():
    import deflate

    # htslib's bgzf.c: zlib-scale 1..9 -> libdeflate 1, 2, 3, 5, 6, 7, 8, 10, 12.
    assert [libdeflate_level(level) for level in range(1, 10)] == [1, 2, 3, 5, 6, 7, 8, 10, 12]
    block = compress_block(TEXT, 6, backend=LIBDEFLATE_BACKEND)
    payload = block[FIXED_HEADER_SIZE + STANDARD_XLEN:-8]
    assert payload == bytes(deflate.deflate_compress(TEXT, 7))
    with pytest.raises(ValueError, match="unknown deflate backend"):
        compress_block(TEXT, 6, backend="gzip")


def test_the_default_backend_is_libdeflate():
    assert default_backend() == LIBDEFLATE_BACKEND


def test_written_bam_is_no_larger_than_samtools_view(tmp_path):
    """The same records (the record column: bytes as stored), level and library as samtools
    (libdeflate), blocks cut by htslib's rule: the output is no larger than samtools'."""
    import subprocess

    import pyarrow as pa

    from sparkbam_py.bam.decode import decode_records
    from sparkbam_py.bam.file import open_bam
    from sparkbam_py.bam.record_column import RECORD, record_column
    from sparkbam_py.write.commit import commit
    from sparkbam_py.write.header import header_from_bam
    from sparkbam_py.write.job import WriteJob

    source = tmp_path / "source.bam"
    content = short_reads(6000, seed=5)
    with BgzfWriter(source) as writer:
        writer.write(content.header)
        for record in content.records:
            writer.write(record)
    theirs = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(theirs), str(source)], check=True)
    batches = []
    with open_bam(str(theirs)) as bam:
        for chunk in bam.iter_record_chunks():
            names = decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names,
                                   ["reference_name", "next_reference_name"])
            batches.append(names.append_column(pa.field(RECORD, pa.binary(), False),
                                               record_column(chunk.run.data, chunk.offsets)))
    ours = tmp_path / "ours.bam"
    job = WriteJob.create(str(ours), header_from_bam(str(theirs)), index=False)
    commit(job, [job.write_part(batches, 0, 1)])
    assert sam_records(ours) == sam_records(theirs)
    assert 0 < ours.stat().st_size <= theirs.stat().st_size
