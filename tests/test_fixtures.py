"""The generated BAMs are what their builder says: checked by pysam and by a plain block walk."""
from __future__ import annotations

import gzip
import pickle
import warnings
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pysam
import pytest

from fixtures import BamFixture, build_fixture, standard_fixture_names
from fixtures.bgzf_walk import BC_ID, DEFLATE_BTYPE_STORED, walk_blocks
from fixtures.content_special import LONG_CIGAR_OP_COUNTS, MAX_QUERY_NAME_LEN, odd_names
from fixtures.layout import HTSJDK_BLOCK_DATA_SIZE, TINY_BLOCK_RANGE
from sparkbam_py.bam.layout import (
    BAM_MAGIC,
    CG_TAG,
    CIGAR_OP_MASK,
    CIGAR_OP_SHIFT,
    CIGAR_OPS,
    CIGAR_PLACEHOLDER_OPS,
    FLAG_SECONDARY,
    FLAG_UNMAPPED,
    OFF_READ_NAME,
    gather_fixed_fields,
)
from sparkbam_py.bgzf.constants import EOF_MARKER, MAX_INFLATED_SIZE
from sparkbam_py.pos import Pos

ALL = standard_fixture_names()
# htslib reads a block with foreign subfields as plain gzip and cannot tell positions.
PYSAM_CHECKABLE = [n for n in ALL if n.split(".")[1] not in ("extra_subfield", "truncated")]
TRUNCATED = [n for n in ALL if n.endswith(".truncated")]


@lru_cache(maxsize=8)
def blocks_of(path: Path):
    return walk_blocks(path.read_bytes())


def inflated(fixture: BamFixture) -> bytes:
    return b"".join(block.inflate() for block in blocks_of(fixture.path))


def fixed_fields(fixture: BamFixture):
    stream = np.frombuffer(inflated(fixture), dtype=np.uint8)
    return stream, gather_fixed_fields(stream, fixture.record_offsets)


def open_bam(fixture: BamFixture) -> pysam.AlignmentFile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pysam warns about the missing EOF marker
        return pysam.AlignmentFile(str(fixture.path), "rb", check_sq=False,
                                   ignore_truncation=not fixture.has_eof_marker)


# -- every fixture against pysam and against a plain walk -------------------------------
@pytest.mark.parametrize("name", PYSAM_CHECKABLE)
def test_pysam_finds_every_record_where_the_builder_put_it(bam_fixtures, name):
    fixture = bam_fixtures[name]
    seen = []
    with open_bam(fixture) as bam:
        assert Pos.from_virtual(bam.tell()) == fixture.header_end
        assert len(bam.header.references) == fixture.n_refs
        while True:
            position = Pos.from_virtual(bam.tell())
            try:
                read = next(bam)
            except StopIteration:
                break
            seen.append((position, read.query_name))
    assert seen == list(zip(fixture.record_pos, fixture.query_names))


@pytest.mark.parametrize("name", TRUNCATED)
# pysam's destructor complains (unraisably) about the handle a failed open never finished.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_pysam_reads_the_intact_records_of_a_truncated_file_then_fails(bam_fixtures, name):
    fixture = bam_fixtures[name]
    assert fixture.file_size == fixture.truncated_at < sum(fixture.block_sizes)
    assert fixture.n_records == 0 or fixture.n_intact_records < fixture.n_records
    names = []
    # A cut header makes pysam refuse the file at open (ValueError); a cut record, mid-read.
    with pytest.raises((OSError, ValueError)):
        with open_bam(fixture) as bam:
            names.extend(read.query_name for read in bam)
    assert names == fixture.query_names[: fixture.n_intact_records]


@pytest.mark.parametrize("name", ALL)
def test_block_table_matches_a_plain_walk_of_the_file(bam_fixtures, name):
    fixture = bam_fixtures[name]
    raw = blocks_of(fixture.path)
    data_blocks = raw[:-1] if fixture.has_eof_marker else raw
    n_expected = len(data_blocks) if fixture.truncated else len(fixture.block_starts)
    assert [b.start for b in data_blocks] == fixture.block_starts[:n_expected]
    assert [b.size for b in data_blocks] == fixture.block_sizes[:n_expected]
    for block, usize in zip(data_blocks, fixture.block_usizes):
        data = block.inflate()
        assert (len(data), block.isize, block.crc32) == (usize, usize, zlib.crc32(data))
    assert fixture.path.read_bytes().endswith(EOF_MARKER) == fixture.has_eof_marker


@pytest.mark.parametrize("name", [n for n in ALL if not n.endswith(".truncated")])
def test_record_offsets_and_positions_agree_with_the_inflated_stream(bam_fixtures, name):
    fixture = bam_fixtures[name]
    stream = inflated(fixture)
    assert len(stream) == fixture.data_size and stream.startswith(BAM_MAGIC)
    _, fields = fixed_fields(fixture)
    sizes = [fixture.record_end(i) - fixture.record_offsets[i] for i in range(fixture.n_records)]
    assert (fields["block_size"] + 4).tolist() == sizes
    data_start, total = {}, 0
    for start, usize in zip(fixture.block_starts, fixture.block_usizes):
        data_start[start] = total
        total += usize
    for pos, offset in zip(fixture.record_pos, fixture.record_offsets):
        assert data_start[pos.block_pos] + pos.offset == offset
        usize = fixture.block_usizes[fixture.block_starts.index(pos.block_pos)]
        # Never (block, end of its data): the next block, empty or not, at offset 0 instead.
        assert pos.offset < usize or (usize == 0 and pos.offset == 0)


# -- layouts really have the property they exist for ------------------------------------
def test_block_aligned_starts_every_record_block_at_a_record(bam_fixtures):
    fixture = bam_fixtures["short_reads.block_aligned"]
    assert fixture.header_end.offset == 0
    data_offsets = np.cumsum([0] + fixture.block_usizes[:-1])
    record_blocks = [o for o in data_offsets if o >= fixture.header_size]
    assert len(record_blocks) >= 5 and set(record_blocks) <= set(fixture.record_offsets)
    assert all(fixture.blocks_spanned(i) == 1 for i in range(fixture.n_records))


@pytest.mark.parametrize("name", ["short_reads.htsjdk", "many_blocks.htsjdk", "all_unmapped.htsjdk"])
def test_htsjdk_layout_splits_records_and_a_length_field(bam_fixtures, name):
    fixture = bam_fixtures[name]
    assert max(fixture.block_usizes) <= HTSJDK_BLOCK_DATA_SIZE
    assert any(fixture.blocks_spanned(i) >= 2 for i in range(fixture.n_records))
    assert any(fixture.length_field_split(i) for i in range(fixture.n_records))


@pytest.mark.parametrize("kind", ["short_reads", "long_reads", "long_cigar"])
def test_tiny_blocks_make_records_span_three_or_more_blocks(bam_fixtures, kind):
    fixture = bam_fixtures[f"{kind}.tiny_blocks"]
    low, high = TINY_BLOCK_RANGE
    assert all(low <= usize <= high for usize in fixture.block_usizes[:-1])
    assert max(fixture.blocks_spanned(i) for i in range(fixture.n_records)) >= 3


@pytest.mark.parametrize("layout", ["block_aligned", "htsjdk", "mixed"])
def test_long_reads_are_bigger_than_a_block_and_span_several(bam_fixtures, layout):
    fixture = bam_fixtures[f"long_reads.{layout}"]
    big = [i for i in range(fixture.n_records)
           if fixture.record_end(i) - fixture.record_offsets[i] > MAX_INFLATED_SIZE]
    assert len(big) >= 3
    assert all(fixture.blocks_spanned(i) >= 2 for i in big)


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith(".level0")])
def test_level0_blocks_are_all_stored(bam_fixtures, name):
    blocks = blocks_of(bam_fixtures[name].path)
    assert all(b.first_deflate_btype == DEFLATE_BTYPE_STORED for b in blocks if b.isize)


def test_mixed_layout_mixes_levels_sizes_and_empty_blocks(bam_fixtures):
    fixture = bam_fixtures["short_reads.mixed"]
    btypes = {b.first_deflate_btype for b in blocks_of(fixture.path) if b.isize}
    assert DEFLATE_BTYPE_STORED in btypes and len(btypes) >= 2
    assert 0 in fixture.block_usizes[:-1]
    assert min(fixture.block_usizes) < 600 < 60_000 < max(fixture.block_usizes)


@pytest.mark.parametrize("kind", ["short_reads", "long_reads", "many_references"])
def test_empty_blocks_sit_mid_file_before_records_and_inside_one(bam_fixtures, kind):
    fixture = bam_fixtures[f"{kind}.empty_midfile"]
    empty = [i for i, usize in enumerate(fixture.block_usizes) if usize == 0]
    empty_starts = {fixture.block_starts[i] for i in empty}
    assert any(0 < i < len(fixture.block_usizes) - 1 for i in empty)
    assert any(pos.block_pos in empty_starts for pos in fixture.record_pos)
    data_offsets = np.cumsum([0] + fixture.block_usizes[:-1])
    inside = [data_offsets[i] for i in empty
              if any(o < data_offsets[i] < fixture.record_end(r)
                     for r, o in enumerate(fixture.record_offsets))]
    assert inside


@pytest.mark.parametrize("kind", ["short_reads", "odd_names"])
def test_extra_subfields_precede_bc_and_gzip_still_reads_them(bam_fixtures, kind):
    fixture = bam_fixtures[f"{kind}.extra_subfield"]
    ids = [b.subfield_ids for b in blocks_of(fixture.path)]
    assert any(len(i) >= 2 and i[-1] == BC_ID for i in ids)
    assert gzip.decompress(fixture.path.read_bytes()) == inflated(fixture)


# -- contents really are what their name says --------------------------------------------
def test_long_cigars_are_stored_in_the_cg_tag_and_restored_by_pysam(bam_fixtures):
    fixture = bam_fixtures["long_cigar.block_aligned"]
    stream, fields = fixed_fields(fixture)
    long_ones = [i for i, name in enumerate(fixture.query_names) if name.startswith("cg_")]
    assert len(long_ones) == len(LONG_CIGAR_OP_COUNTS)
    for i in long_ones:
        assert fields["n_cigar_op"][i] == CIGAR_PLACEHOLDER_OPS
        start = fixture.record_offsets[i] + OFF_READ_NAME + int(fields["l_read_name"][i])
        ops = np.frombuffer(stream[start : start + 8].tobytes(), dtype="<u4")
        assert [CIGAR_OPS[op & CIGAR_OP_MASK] for op in ops] == ["S", "N"]
        assert ops[0] >> CIGAR_OP_SHIFT == fields["l_seq"][i]
        record = stream[fixture.record_offsets[i] : fixture.record_end(i)].tobytes()
        assert CG_TAG + b"BI" in record
    with open_bam(fixture) as bam:
        restored = {read.query_name: read.cigarstring for read in bam}
    for index, n_ops in enumerate(LONG_CIGAR_OP_COUNTS):
        assert restored[f"cg_{index}"] == "1M1D" * (n_ops // 2)


def test_secondary_alignments_and_one_mapped_primary_have_no_sequence(bam_fixtures):
    fixture = bam_fixtures["secondary_no_seq.block_aligned"]
    _, fields = fixed_fields(fixture)
    secondary = (fields["flag"] & FLAG_SECONDARY) != 0
    assert secondary.any() and (fields["l_seq"][secondary] == 0).all()
    mapped_primary_no_seq = (fields["flag"] == 0) & (fields["l_seq"] == 0) & (fields["ref_id"] >= 0)
    assert mapped_primary_no_seq.any()


def test_all_unmapped_has_no_references_and_only_unplaced_reads(bam_fixtures):
    fixture = bam_fixtures["all_unmapped.block_aligned"]
    _, fields = fixed_fields(fixture)
    assert fixture.n_refs == 0
    assert ((fields["flag"] & FLAG_UNMAPPED) != 0).all() and (fields["ref_id"] == -1).all()


def test_many_references_header_spans_several_blocks(bam_fixtures):
    fixture = bam_fixtures["many_references.block_aligned"]
    assert fixture.n_refs >= 3000
    assert fixture.block_index_of_byte(fixture.header_size - 1) >= 2


def test_odd_names_cover_every_legal_character_and_the_longest_name(bam_fixtures):
    names = bam_fixtures["odd_names.block_aligned"].query_names
    assert max(map(len, names)) == MAX_QUERY_NAME_LEN
    legal = {chr(c) for c in range(ord("!"), ord("~") + 1)} - {"@"}
    assert set("".join(names)) == legal


def test_header_only_ends_its_header_at_the_end_of_the_data(bam_fixtures):
    for layout in ("block_aligned", "empty_midfile", "tiny_blocks"):
        fixture = bam_fixtures[f"header_only.{layout}"]
        assert fixture.n_records == 0
        assert fixture.header_end == fixture.pos_at(fixture.data_size)


def test_many_blocks_is_big_enough_for_many_splits(bam_fixtures):
    fixture = bam_fixtures["many_blocks.block_aligned"]
    assert len(fixture.block_starts) >= 40 and fixture.file_size > 2_500_000


# -- the truth object itself -------------------------------------------------------------
def test_boundary_positions_name_the_next_block_even_when_empty():
    fixture = BamFixture(
        name="t", kind="t", layout="t", path=Path("t.bam"), record_pos=[], record_offsets=[],
        block_starts=[0, 50, 78, 106], block_sizes=[50, 28, 28, 60], block_usizes=[10, 0, 0, 20],
        header_end=Pos(0, 0), header_size=10, data_size=30, n_refs=0, query_names=[],
        has_eof_marker=True, file_size=194,
    )
    assert fixture.pos_at(0) == Pos(0, 0)
    assert fixture.pos_at(9) == Pos(0, 9)
    assert fixture.pos_at(10) == Pos(50, 0)  # the first empty block, as htslib tells it
    assert fixture.pos_at(11) == Pos(106, 1)
    assert fixture.pos_at(30) == Pos(166, 0)
    assert fixture.block_index_of_byte(10) == 3


def test_fixtures_pickle_and_still_work(bam_fixtures):
    fixture = bam_fixtures["short_reads.tiny_blocks"]
    clone = pickle.loads(pickle.dumps(fixture))
    assert clone == fixture
    assert clone.pos_at(fixture.record_offsets[5]) == fixture.record_pos[5]
    assert fixture.blocks_spanned(0) >= 1


def test_building_is_deterministic(tmp_path):
    content = odd_names()
    first = build_fixture(content, "mixed", tmp_path / "a")
    second = build_fixture(content, "mixed", tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.record_pos == second.record_pos
