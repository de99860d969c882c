"""Shared by the index tests (BAI, CSI, ``.bai.json``, intervals): the corpus's indexed BAMs,
generated indexed BAMs, hand-built BAI bytes, and the oracle for chunks.

The oracle never uses the project's own reader: pysam seeks to each chunk's start and reads
while ``tell() < end``; the reads kept (those overlapping the region) must equal
``fetch(region)`` exactly, with none twice.
"""
from __future__ import annotations

import contextlib
import random
import re
import struct
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import pysam
import pytest

from sparkbam_py.index.bai import BAI_MAGIC, BamIndex
from sparkbam_py.index.chunks import Chunk, chunks_for_region, chunks_for_regions, unplaced_unmapped_start
from sparkbam_py.index.csi import find_index_path, read_index

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
    span = sum(int(n) for n, op in re.findall(r"(\d+)(\D)", cigar) if op in "MDN")
    window = min(length - span - 1, rng.choice([length, 50_000]))
    pos = rng.randrange(max(window, 1))
    if rng.random() < 0.05:  # placed unmapped: at its mate's position, no CIGAR
        return make_read(header, rng, name, BAM_FLAG_UNMAPPED, ref_id, pos, None, 60)
    qlen = sum(int(n) for n, op in re.findall(r"(\d+)(\D)", cigar) if op in "MIS=X")
    return make_read(header, rng, name, 0, ref_id, pos, cigar, qlen)


def make_read(header, rng, name, flag, ref_id, pos, cigar, qlen):
    read = pysam.AlignedSegment(header)
    read.query_name, read.flag = name, flag
    read.reference_id, read.reference_start, read.mapping_quality = ref_id, pos, 30
    if cigar:
        read.cigarstring = cigar
    read.query_sequence = "".join(rng.choice("ACGT") for _ in range(qlen))
    return read


GENERATED_REFS = [("chr1", 2_000_000), ("chr2", 300_000), ("empty", 900), ("chr3", 5_000_000)]


# -- hand-built BAI bytes ---------------------------------------------------------------------


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
