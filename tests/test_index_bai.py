"""BAI parsing, the binning math, and interval chunks checked against pysam/htslib (the
oracle and the generated BAMs are in :mod:`index_oracle`)."""
from __future__ import annotations

import pickle
import random
import struct
from pathlib import Path
from typing import Tuple

import pysam
import pytest
from hypothesis import given
from hypothesis import strategies as st

from index_oracle import (
    BAM_FLAG_UNMAPPED,
    GENERATED_REFS,
    assert_chunks_match_fetch,
    assert_unplaced_tail_matches,
    bai_bytes,
    corpus_files,
    corpus_indexed_bams,
    corpus_params,
    make_read,
    open_with_pysam,
    overlaps,
    reads_in_chunks,
    reference_block,
    write_indexed_bam,
)
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.bai import parse_bai, parse_bai_reference, read_bai
from sparkbam_py.index.bins import (
    bin_count,
    bin_level,
    bin_range,
    depth_for_length,
    max_reference_length,
    parent_bin,
    pseudo_bin,
    reg2bin,
    reg2bins,
)
from sparkbam_py.index.chunks import (
    Chunk,
    chunks_for_region,
    merge_chunks,
    unplaced_unmapped_start,
)
from sparkbam_py.pos import Pos


@pytest.fixture(scope="module")
def generated_bai(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("bai") / "gen.bam", GENERATED_REFS, 12_000, seed=7)


# -- binning math ----------------------------------------------------------------------------


def test_bai_binning_constants():
    assert bin_count() == 37449 and pseudo_bin() == 37450  # SAMv1 §5.2
    assert max_reference_length() == 1 << 29
    # CSI schemes samtools/tabix write (reference sheet §2.3, verified there).
    assert pseudo_bin(3) == 586 and pseudo_bin(6) == 299594


def test_reg2bin_spec_examples():
    assert reg2bin(0, 1) == 4681  # first 16 kbp bin
    assert reg2bin(0, 1 << 14) == 4681 and reg2bin(0, (1 << 14) + 1) == 585
    assert reg2bin(0, 1 << 29) == 0
    assert reg2bins(0, 1) == [0, 1, 9, 73, 585, 4681]
    assert reg2bins(5, 5) == [] and reg2bins(-10, 1) == [0, 1, 9, 73, 585, 4681]


@given(st.floats(0, 1, exclude_max=True), st.integers(1, 1 << 22),
       st.sampled_from([(14, 5), (14, 3), (12, 7)]))
def test_reg2bins_holds_reg2bin_and_bins_cover_the_interval(fraction, span, scheme):
    min_shift, depth = scheme
    beg = int(fraction * max_reference_length(min_shift, depth))
    end = min(beg + span, max_reference_length(min_shift, depth))
    bins = reg2bins(beg, end, min_shift, depth)
    assert reg2bin(beg, end, min_shift, depth) in bins
    for bin_id in bins:
        lo, hi = bin_range(bin_id, min_shift, depth)
        assert lo < end and beg < hi  # every listed bin overlaps
        if bin_id:
            assert bin_level(parent_bin(bin_id)) == bin_level(bin_id) - 1


def test_depth_for_length():
    assert depth_for_length(1 << 29) == 5 and depth_for_length((1 << 29) + 1) == 6
    assert depth_for_length(2_000_000) == 3


# -- chunk merging ---------------------------------------------------------------------------


def chunk(a: Tuple[int, int], b: Tuple[int, int]) -> Chunk:
    return Chunk(Pos(*a), Pos(*b))


def test_merge_chunks_overlap_touch_same_block_and_gaps():
    chunks = [chunk((900, 5), (1000, 0)), chunk((100, 0), (200, 10)), chunk((150, 0), (180, 0)),
              chunk((200, 10), (300, 0)), chunk((300, 40), (400, 0)), chunk((500, 0), (500, 0))]
    assert merge_chunks(chunks) == [chunk((100, 0), (400, 0)), chunk((900, 5), (1000, 0))]
    assert merge_chunks([]) == []


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_params(corpus_files(".bai")))
def test_corpus_bai_parses_and_each_reference_parses_alone(path):
    data = path.read_bytes()
    index = read_bai(str(path))
    assert index.kind == "BAI" and index.path == str(path)
    for ref_id, reference in enumerate(index.references):
        start, end = reference.span
        assert parse_bai_reference(data[start:end], start, str(path)) == reference, ref_id
        assert all(b < index.pseudo_bin - 1 for b in reference.bins)
    trailer = 0 if index.n_no_coor is None else 8
    last_end = index.references[-1].span[1] if index.references else 8
    assert last_end + trailer == len(data)


def test_parse_bai_metadata_and_pickle(generated_bai):
    index = read_bai(str(generated_bai) + ".bai")
    chr1 = index.references[0]
    assert chr1.metadata is not None and chr1.metadata.n_mapped > 0
    assert chr1.metadata.ref_beg < chr1.metadata.ref_end
    assert not index.references[2].has_data  # "empty" has no reads
    assert index.n_no_coor == 50
    assert pickle.loads(pickle.dumps(index)) == index


def test_bad_magic_names_path_and_offset(tmp_path):
    path = tmp_path / "x.bai"
    path.write_bytes(b"BAM\x01" + bytes(12))
    with pytest.raises(IndexFormatError) as info:
        read_bai(str(path))
    assert info.value.path == str(path) and info.value.where == 0 and "magic" in str(info.value)


def test_every_truncation_is_an_index_format_error(generated_bai):
    data = Path(str(generated_bai) + ".bai").read_bytes()
    last_reference_end = parse_bai(data).references[-1].span[1]
    for cut in list(range(0, 200)) + list(range(last_reference_end - 50, len(data))):
        if cut == last_reference_end:  # the optional n_no_coor is simply absent
            assert parse_bai(data[:cut]).n_no_coor is None
            continue
        with pytest.raises(IndexFormatError) as info:
            parse_bai(data[:cut], "cut.bai")
        assert info.value.path == "cut.bai" and 0 <= info.value.where <= cut


@pytest.mark.parametrize("block, message", [
    (reference_block([(4681, [(1, 2)]), (4681, [(3, 4)])]), "twice"),
    (reference_block([(37449, [(1, 2)])]), "out of range"),
    (reference_block([(37450, [(1, 2)])]), "pseudo-bin has 1 chunks"),
    (struct.pack("<i", -1) + bytes(4), "out of range"),
    (struct.pack("<i", 5) + bytes(8), "truncated"),
])
def test_corrupt_reference_blocks(block, message):
    with pytest.raises(IndexFormatError, match=message):
        parse_bai(bai_bytes(block), "bad.bai")


def test_trailing_bytes_after_n_no_coor_are_rejected():
    with pytest.raises(IndexFormatError, match="unexpected"):
        parse_bai(bai_bytes(reference_block([]), n_no_coor=0) + b"\x00")


def test_read_bai_from_a_channel_like_object(generated_bai):
    data = Path(str(generated_bai) + ".bai").read_bytes()

    class Channel:
        size = len(data)
        path = "remote.bai"

        def read_at(self, offset, n):
            return data[offset:offset + n]

    assert read_bai(Channel()) == read_bai(data)
    assert read_bai(Channel()).path == "remote.bai"


# -- chunks against htslib ---------------------------------------------------------------------


def test_generated_bai_chunks_match_fetch(generated_bai):
    assert_chunks_match_fetch(generated_bai, Path(str(generated_bai) + ".bai"), count=60, seed=1)


def test_generated_bai_unplaced_tail(generated_bai):
    assert_unplaced_tail_matches(generated_bai, Path(str(generated_bai) + ".bai"))
    index = read_bai(str(generated_bai) + ".bai")
    assert unplaced_unmapped_start(index) == max(r.metadata.ref_end for r in index.references if r.metadata)


def test_chunks_for_region_edges(generated_bai):
    index = read_bai(str(generated_bai) + ".bai")
    assert chunks_for_region(index, 2, 0, 900) == []  # a reference without reads
    assert chunks_for_region(index, 99, 0, 10) == []  # beyond the index
    assert chunks_for_region(index, 0, 500, 500) == []  # empty interval
    whole = chunks_for_region(index, 0, 0, 2_000_000)
    meta = index.references[0].metadata
    assert whole[0].start >= meta.ref_beg and whole[-1].end <= meta.ref_end
    with pytest.raises(ValueError):
        chunks_for_region(index, -1, 0, 10)


def test_placed_unmapped_read_before_a_long_read(tmp_path):
    """A placed unmapped read is missing from the linear index; htslib steps back for it."""
    rng = random.Random(3)
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": "c", "LN": 400_000}]})
    path = tmp_path / "edge.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        out.write(make_read(header, rng, "early", 0, 0, 10, "50M", 50))
        out.write(make_read(header, rng, "unmapped", BAM_FLAG_UNMAPPED, 0, 20_000, None, 50))
        out.write(make_read(header, rng, "long", 0, 0, 20_100, "20M30000N20M", 40))
        for i in range(3000):
            out.write(make_read(header, rng, f"r{i}", 0, 0, 40_000 + 100 * i, "60M", 60))
    pysam.index(str(path))
    assert_chunks_match_fetch(path, Path(str(path) + ".bai"), count=40, seed=2)
    index = read_bai(str(path) + ".bai")
    with open_with_pysam(path, Path(str(path) + ".bai")) as handle:
        expected = {r.query_name for r in handle.fetch("c", 19_990, 20_050)}
        chunks = chunks_for_region(index, 0, 19_990, 20_050)
        got = reads_in_chunks(handle, chunks, overlaps(0, 19_990, 20_050))
    assert "unmapped" in expected and {key[0] for _, key in got} == expected


@pytest.mark.corpus
@pytest.mark.parametrize("bam", corpus_params([b for b, i in corpus_indexed_bams() if i.suffix == ".bai"]))
def test_corpus_chunks_match_fetch_bai(bam):
    assert_chunks_match_fetch(bam, Path(find_bai(bam)), count=12, seed=len(bam.name))


@pytest.mark.corpus
@pytest.mark.parametrize("bam", corpus_params([b for b, i in corpus_indexed_bams() if i.suffix == ".bai"]))
def test_corpus_unplaced_tail_bai(bam):
    assert_unplaced_tail_matches(bam, Path(find_bai(bam)))


def find_bai(bam: Path) -> str:
    for candidate in (str(bam) + ".bai", str(bam.with_suffix(".bai"))):
        if Path(candidate).is_file():
            return candidate
    raise AssertionError(f"no .bai for {bam}")
