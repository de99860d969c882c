"""BAI parsing, the binning math, and interval chunks checked against pysam/htslib.

The oracle for chunks never uses the project's own reader: pysam seeks to each chunk's start
and reads while ``tell() < end``; the reads kept (those overlapping the region) must equal
``fetch(region)`` exactly, with none twice.  Helpers here are shared with the CSI and
``.bai.json`` tests.
"""
from __future__ import annotations

import contextlib
import pickle
import random
import struct
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import pysam
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.bai import BAI_MAGIC, BamIndex, parse_bai, parse_bai_reference, read_bai
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
    chunks_for_regions,
    merge_chunks,
    unplaced_unmapped_start,
)
from sparkbam_py.index.csi import find_index_path, read_index
from sparkbam_py.pos import Pos

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NO_CORPUS = f"real-world corpus not found at {CORPUS} (expected ../shared/corpus beside the repo)"
BAM_FLAG_UNMAPPED = 0x4

pysam.set_verbosity(0)  # htslib warns about old index timestamps in the corpus


# -- corpus discovery ----------------------------------------------------------------------


def corpus_params(paths: Sequence[Path]) -> list:
    """pytest params named after each file; one clearly skipped param without the corpus."""
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_CORPUS), id="no-corpus")]
    return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in paths]


def corpus_files(suffix: str) -> List[Path]:
    return sorted(CORPUS.rglob(f"*{suffix}")) if CORPUS.is_dir() else []


def corpus_indexed_bams() -> List[Tuple[Path, Path]]:
    """Every (BAM, index) pair in the corpus: a BAM with both a .bai and a .csi gives two."""
    pairs = []
    for bam in corpus_files(".bam"):
        found = {find_index_path(str(bam))}
        found.update(str(bam) + ext for ext in (".bai", ".csi") if Path(str(bam) + ext).is_file())
        pairs.extend((bam, Path(index)) for index in sorted(p for p in found if p))
    return pairs


@contextlib.contextmanager
def open_with_pysam(bam: Path, index: Path) -> Iterator[pysam.AlignmentFile]:
    """A pysam handle for the oracle, or a skip: some corpus files are beyond pysam (that
    is why they are in the corpus).  Errors from close() alone are ignored: pysam reports
    one for a file it has read completely and correctly."""
    try:
        handle = pysam.AlignmentFile(str(bam), index_filename=str(index), check_sq=False)
        for _ in handle.fetch(until_eof=True):
            pass
        handle.reset()
    except (OSError, ValueError) as exc:
        pytest.skip(f"pysam cannot read {bam.name}: {exc}")
    try:
        yield handle
    finally:
        with contextlib.suppress(OSError):
            handle.close()


# -- the oracle ------------------------------------------------------------------------------


def read_key(read: pysam.AlignedSegment) -> tuple:
    return (read.query_name, read.flag, read.reference_id, read.reference_start,
            read.cigarstring or "", read.next_reference_start)


def read_end(read: pysam.AlignedSegment) -> int:
    """htslib ``bam_endpos``: unmapped or zero-length alignments cover one base."""
    end = read.reference_end
    return end if end is not None and end > read.reference_start else read.reference_start + 1


def reads_in_chunks(handle, chunks: Sequence[Chunk], wanted) -> List[tuple]:
    """Seek to each chunk, read while ``tell() < end``; ``(virtual offset, key)`` of the reads
    ``wanted`` accepts.  The offset tells a record read twice from two identical records
    (some corpus BAMs hold exact duplicates)."""
    kept = []
    for chunk in chunks:
        handle.seek(chunk.start.virtual)
        while handle.tell() < chunk.end.virtual:
            at = handle.tell()
            read = next(handle, None)
            if read is None:
                break
            if wanted(read):
                kept.append((at, read_key(read)))
    return kept


def fetch_or_skip(handle, ref_id: int, beg: int, end: int) -> List[tuple]:
    """``fetch`` as the oracle; a pysam failure here means the index does not match its BAM
    (stale corpus companions exist), so there is nothing to compare against."""
    try:  # by tid: some corpus headers have @SQ lines htslib cannot parse by name
        return [read_key(r) for r in handle.fetch(tid=ref_id, start=beg, stop=end)]
    except (OSError, ValueError) as exc:
        pytest.skip(f"pysam fetch fails with this index ({exc}): index stale for its BAM?")


def assert_same_reads(got: List[tuple], expected_keys: List[tuple], what: str) -> None:
    offsets = [at for at, _ in got]
    assert len(offsets) == len(set(offsets)), f"a record read twice for {what}"
    assert sorted(key for _, key in got) == sorted(expected_keys), what


def overlaps(ref_id: int, beg: int, end: int):
    return lambda r: r.reference_id == ref_id and r.reference_start < end and read_end(r) > beg


def random_regions(handle, rng: random.Random, count: int) -> List[Tuple[int, int, int]]:
    """Regions of many sizes: around real reads (so most are non-empty), anywhere, whole refs."""
    lengths = handle.lengths
    starts = [(r.reference_id, r.reference_start)
              for r in handle.fetch(until_eof=True) if r.reference_id >= 0]
    handle.reset()
    regions = []
    for i in range(count):
        if starts and i % 3 != 2:
            ref_id, pos = rng.choice(starts)
            beg = max(0, pos - rng.choice([0, 1, 50, 20_000]))
        else:
            ref_id = rng.randrange(len(lengths))
            beg = rng.randrange(max(lengths[ref_id], 1))
        end = beg + rng.choice([1, 100, 5_000, 100_000, 3_000_000])
        if beg < lengths[ref_id] < end:  # (reads may lie past a header's length: keep those)
            end = lengths[ref_id]
        regions.append((ref_id, beg, end) if i % 7 else (ref_id, 0, max(lengths[ref_id], 1)))
    return regions


def assert_chunks_match_fetch(bam: Path, index_path: Path, count: int = 15, seed: int = 0,
                              read_budget: int = 80_000) -> None:
    """Random regions (and a few at once) give exactly ``fetch``'s reads.  Stops early once
    ``read_budget`` reads were compared: deep little corpus files would otherwise take long."""
    index = read_index(str(index_path))
    with open_with_pysam(bam, index_path) as handle:
        assert handle.nreferences == index.n_refs
        if not index.n_refs:
            return  # no reference to query (reads, if any, are all unplaced)
        regions = random_regions(handle, random.Random(seed), count)
        compared = 0
        for ref_id, beg, end in regions:
            expected = fetch_or_skip(handle, ref_id, beg, end)
            chunks = chunks_for_region(index, ref_id, beg, end)
            got = reads_in_chunks(handle, chunks, overlaps(ref_id, beg, end))
            assert_same_reads(got, expected, f"region {ref_id}:{beg}-{end}")
            compared += len(expected)
            if compared > read_budget:
                break
        assert_many_regions_match(handle, index, regions[:6] if compared <= read_budget else regions[:2])


def assert_many_regions_match(handle, index: BamIndex, regions) -> None:
    """``chunks_for_regions``: disjoint chunks whose reads overlapping any region = the union."""
    expected = {}  # a record in two regions comes once: key it by where it ends in the file
    for ref_id, beg, end in regions:
        for read in handle.fetch(tid=ref_id, start=beg, stop=end):
            expected[handle.tell()] = read_key(read)
    chunks = chunks_for_regions(index, regions)
    assert all(a.end < b.start for a, b in zip(chunks, chunks[1:]))
    tests = [overlaps(*region) for region in regions]
    got = reads_in_chunks(handle, chunks, lambda r: any(test(r) for test in tests))
    assert_same_reads(got, list(expected.values()), f"regions {regions}")


def assert_unplaced_tail_matches(bam: Path, index_path: Path) -> None:
    """From ``unplaced_unmapped_start`` to EOF: exactly the refID -1 reads, in file order."""
    index = read_index(str(index_path))
    with open_with_pysam(bam, index_path) as handle:
        for ref_id in [i for i, ref in enumerate(index.references) if ref.has_data][:1]:
            fetch_or_skip(handle, ref_id, 0, 1 << 29)  # skips a stale index, as for chunks
        expected = [read_key(r) for r in handle.fetch(until_eof=True) if r.reference_id < 0]
        handle.reset()
        start = unplaced_unmapped_start(index)
        if start is not None:
            handle.seek(start.virtual)
        reads = handle.fetch(until_eof=True) if start is None else handle  # None: from the first record
        got = [read_key(r) for r in reads]
    assert got == expected
    if index.n_no_coor is not None:
        assert index.n_no_coor == len(expected)


# -- generated BAMs ----------------------------------------------------------------------------


def write_indexed_bam(
    path: Path, references, n_reads: int, seed: int, index_args=(), unplaced: int = 50
) -> Path:
    """A coordinate-sorted BAM of random reads (spliced, deleted, placed-unmapped, unplaced),
    indexed by samtools through pysam with ``index_args`` (e.g. ``("-c",)`` for CSI)."""
    rng = random.Random(seed)
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": n, "LN": ln} for n, ln in references]}
    )
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(n_reads):
            ref_id = rng.choice([i for i, (_, ln) in enumerate(references) if ln > 1000])
            out.write(random_read(header, rng, f"r{i}", ref_id, references[ref_id][1]))
        for i in range(unplaced):
            out.write(make_read(header, rng, f"u{i}", BAM_FLAG_UNMAPPED, -1, -1, None, 60))
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(*index_args, str(path))
    return path


def random_read(header, rng: random.Random, name: str, ref_id: int, length: int):
    cigar = rng.choice(["60M", "60M", "60M", "30M5000N30M", "20M200000N40M", "30M10D30M", "5S50M5S"])
    span = sum(int(n) for n, op in _cigar_ops(cigar) if op in "MDN")
    window = min(length - span - 1, rng.choice([length, 50_000]))
    pos = rng.randrange(max(window, 1))
    if rng.random() < 0.05:  # placed unmapped: at its mate's position, no CIGAR
        return make_read(header, rng, name, BAM_FLAG_UNMAPPED, ref_id, pos, None, 60)
    qlen = sum(int(n) for n, op in _cigar_ops(cigar) if op in "MIS=X")
    return make_read(header, rng, name, 0, ref_id, pos, cigar, qlen)


def make_read(header, rng, name, flag, ref_id, pos, cigar, qlen):
    read = pysam.AlignedSegment(header)
    read.query_name, read.flag = name, flag
    read.reference_id, read.reference_start, read.mapping_quality = ref_id, pos, 30
    if cigar:
        read.cigarstring = cigar
    read.query_sequence = "".join(rng.choice("ACGT") for _ in range(qlen))
    return read


def _cigar_ops(cigar: str):
    number = ""
    for char in cigar:
        if char.isdigit():
            number += char
        else:
            yield number, char
            number = ""


GENERATED_REFS = [("chr1", 2_000_000), ("chr2", 300_000), ("empty", 900), ("chr3", 5_000_000)]


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


def reference_block(
    bins: Sequence[Tuple[int, Sequence[Tuple[int, int]]]], linear: Sequence[int] = ()
) -> bytes:
    """One reference's bytes in SAMv1 §5.2 layout: ``[(bin, [(beg, end), ...]), ...]``."""
    out = struct.pack("<i", len(bins))
    for bin_id, chunks in bins:
        out += struct.pack("<Ii", bin_id, len(chunks))
        out += b"".join(struct.pack("<QQ", a, b) for a, b in chunks)
    return out + struct.pack("<i", len(linear)) + b"".join(struct.pack("<Q", v) for v in linear)


def bai_bytes(*blocks: bytes, n_no_coor: Optional[int] = None) -> bytes:
    tail = b"" if n_no_coor is None else struct.pack("<Q", n_no_coor)
    return BAI_MAGIC + struct.pack("<i", len(blocks)) + b"".join(blocks) + tail


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
