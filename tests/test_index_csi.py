"""CSI parsing (CSIv1) and CSI-driven chunks, checked against pysam/htslib like the BAI ones."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.bins import depth_for_length, max_reference_length
from sparkbam_py.index.chunks import chunks_for_region
from sparkbam_py.index.csi import (
    CSI_MAGIC,
    find_index_path,
    inflate_bgzf,
    parse_csi,
    parse_csi_reference,
    parse_index,
    read_csi,
    read_index,
)
from index_oracle import (
    GENERATED_REFS,
    assert_chunks_match_fetch,
    assert_unplaced_tail_matches,
    corpus_files,
    corpus_indexed_bams,
    corpus_params,
    overlaps,
    open_with_pysam,
    reads_in_chunks,
    write_indexed_bam,
)

HUGE = (1 << 30) + 5_000  # longer than BAI's 2^29 limit: CSI only


@pytest.fixture(scope="module")
def generated_csi(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("csi") / "gen.bam", GENERATED_REFS, 8_000, seed=11,
                             index_args=("-c",))


@pytest.fixture(scope="module")
def huge_csi(tmp_path_factory) -> Path:
    """Reads near 0, around 2^29 and near 2^30 on one contig longer than 2^29."""
    return write_indexed_bam(tmp_path_factory.mktemp("huge") / "huge.bam", [("big", HUGE), ("small", 50_000)],
                             3_000, seed=5, index_args=("-c",))


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_params(corpus_files(".csi")))
def test_corpus_csi_parses_and_each_reference_parses_alone(path):
    index = read_csi(str(path))
    assert index.kind == "CSI" and index.min_shift > 0
    inflated = inflate_bgzf(path.read_bytes())
    for ref_id, reference in enumerate(index.references):
        start, end = reference.span
        alone = parse_csi_reference(inflated[start:end], index.depth, start, str(path))
        assert alone == reference, ref_id
        assert reference.linear_index == ()
        assert all(b.loffset is not None for b in reference.bins.values())
    trailer = 0 if index.n_no_coor is None else 8
    if index.references:
        assert index.references[-1].span[1] + trailer == len(inflated)


def test_generated_csi_header_fields(generated_csi, huge_csi):
    index = read_csi(str(generated_csi) + ".csi")
    assert (index.min_shift, index.depth) == (14, depth_for_length(5_000_000))
    assert index.pseudo_bin == ((1 << 3 * (index.depth + 1)) - 1) // 7 + 1  # CSIv1: bin_limit + 1
    assert index.n_no_coor == 50
    huge = read_csi(str(huge_csi) + ".csi")
    assert huge.depth > 5 and max_reference_length(huge.min_shift, huge.depth) >= HUGE


def test_inflated_stream_parses_the_same(generated_csi):
    data = Path(str(generated_csi) + ".csi").read_bytes()
    assert parse_csi(gzip.decompress(data)) == parse_csi(data)
    assert parse_index(data) == parse_csi(data)


def test_truncated_compressed_csi(generated_csi):
    data = Path(str(generated_csi) + ".csi").read_bytes()
    for cut in (10, len(data) // 2, len(data) - 40):
        with pytest.raises(IndexFormatError) as info:
            parse_csi(data[:cut], "cut.csi")
        assert info.value.path == "cut.csi"


def test_truncated_inflated_stream_names_the_inflated_offset(generated_csi):
    inflated = gzip.decompress(Path(str(generated_csi) + ".csi").read_bytes())
    last_reference_end = parse_csi(inflated).references[-1].span[1]
    for cut in list(range(0, 40)) + [last_reference_end - 1, last_reference_end + 3]:
        with pytest.raises(IndexFormatError, match="inflated index"):
            parse_csi(inflated[:cut], "cut.csi")


@pytest.mark.parametrize("header, message", [
    (b"CSJ\x01" + bytes(16), "magic"),
    (CSI_MAGIC + struct.pack("<iii", 0, 5, 0) + bytes(4), "implausible"),
    (CSI_MAGIC + struct.pack("<iii", 14, 12, 0) + bytes(4), "depth"),
    (CSI_MAGIC + struct.pack("<iii", 14, 5, 100) + bytes(4), "l_aux"),
])
def test_corrupt_csi_headers(header, message):
    with pytest.raises(IndexFormatError, match=message):
        parse_csi(gzip.compress(header), "bad.csi")


def test_parse_index_rejects_other_files():
    with pytest.raises(IndexFormatError, match="neither"):
        parse_index(b"BAM\x01" + bytes(8))


def test_find_index_path_prefers_csi_like_htslib(tmp_path):
    bam = tmp_path / "x.bam"
    bam.write_bytes(b"")
    assert find_index_path(str(bam)) is None
    for name in ("x.bai", "x.bam.bai", "x.csi", "x.bam.csi"):
        (tmp_path / name).write_bytes(b"")
        assert find_index_path(str(bam)) == str(tmp_path / name)


# -- chunks against htslib ---------------------------------------------------------------------


def test_generated_csi_chunks_match_fetch(generated_csi):
    assert_chunks_match_fetch(generated_csi, Path(str(generated_csi) + ".csi"), count=50, seed=3)
    assert_unplaced_tail_matches(generated_csi, Path(str(generated_csi) + ".csi"))


def test_csi_with_a_small_min_shift(tmp_path):
    bam = write_indexed_bam(tmp_path / "m12.bam", GENERATED_REFS[:2], 4_000, seed=13,
                            index_args=("-c", "-m", "12"))
    assert read_csi(str(bam) + ".csi").min_shift == 12
    assert_chunks_match_fetch(bam, Path(str(bam) + ".csi"), count=40, seed=4)


def test_contig_longer_than_bai_allows(huge_csi):
    index_path = Path(str(huge_csi) + ".csi")
    assert_chunks_match_fetch(huge_csi, index_path, count=40, seed=6)
    index = read_index(str(index_path))
    with open_with_pysam(huge_csi, index_path) as handle:
        far = [r.reference_start for r in handle.fetch("big", 1 << 29, HUGE)]
        got = reads_in_chunks(handle, chunks_for_region(index, 0, 1 << 29, HUGE), overlaps(0, 1 << 29, HUGE))
    assert far and len(got) == len(far)


@pytest.mark.corpus
@pytest.mark.parametrize("bam", corpus_params([b for b, i in corpus_indexed_bams() if i.suffix == ".csi"]))
def test_corpus_chunks_match_fetch_csi(bam):
    index_path = Path(str(bam) + ".csi")
    assert_chunks_match_fetch(bam, index_path, count=12, seed=len(bam.name))
    assert_unplaced_tail_matches(bam, index_path)


def test_find_index_path_on_generated(generated_csi):
    assert find_index_path(str(generated_csi)) == str(generated_csi) + ".csi"
