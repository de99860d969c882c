"""Interval loading against pysam: the reads equal the union of ``fetch`` over the regions.

A read is named by its virtual position (htslib ``tell()`` before it) and its name, so two
identical records are told apart and a record read twice is caught.  pysam's ``fetch``
reports where each read *ends* (``tell()`` after it); one sequential pass maps ends to starts.
Helpers here are shared with the other interval test modules.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pysam
import pytest

from sparkbam_py.errors import SparkBamError
from sparkbam_py.index.bai_json import write_bai_json
from sparkbam_py.index.regions import Region
from sparkbam_py.intervals import ChunkPiece, plan_interval_partitions, read_interval_partition
from index_oracle import (
    GENERATED_REFS,
    corpus_indexed_bams,
    corpus_params,
    open_with_pysam,
    write_indexed_bam,
)

ReadId = Tuple[int, str]


class StaleIndex(Exception):
    """pysam cannot fetch with this index (stale corpus companions exist)."""


class PysamOracle:
    """``fetch`` over regions, with every read named by where it starts."""

    def __init__(self, handle: pysam.AlignmentFile):
        self.handle = handle
        self.start_of_end: Dict[int, int] = {}
        self.unplaced: List[ReadId] = []
        self.placed_starts: List[Tuple[int, int]] = []  # (ref_id, pos) of each placed read
        handle.reset()
        reads = handle.fetch(until_eof=True)
        while True:
            start = handle.tell()
            read = next(reads, None)
            if read is None:
                break
            self.start_of_end[handle.tell()] = start
            if read.reference_id < 0:
                self.unplaced.append((start, read.query_name))
            else:
                self.placed_starts.append((read.reference_id, read.reference_start))
        handle.reset()

    def fetch(self, ref_id: int, beg: int, end: int) -> List[ReadId]:
        try:
            return [(self.start_of_end[self.handle.tell()], read.query_name)
                    for read in self.handle.fetch(tid=ref_id, start=beg, stop=end)]
        except (OSError, ValueError) as exc:  # pysam: the index does not fit its BAM
            raise StaleIndex(str(exc)) from exc

    def union(self, regions: Sequence[Region]) -> List[ReadId]:
        """Each read once, however many regions it overlaps; ``"*"``: the unplaced reads."""
        found = set()
        for region in regions:
            found.update(self.unplaced if region.ref_id < 0 else self.fetch(region.ref_id, region.beg, region.end))
        return sorted(found)


def read_ids(path, regions, split_size=None, index_path=None, use_bai_json=True) -> List[ReadId]:
    """Our reads, in output order: (file_position, query_name)."""
    partitions = plan_interval_partitions(path, regions, split_size, index_path=index_path,
                                          use_bai_json=use_bai_json)
    return partition_read_ids(partitions)


def partition_read_ids(partitions) -> List[ReadId]:
    ids: List[ReadId] = []
    for partition in partitions:
        for batch in read_interval_partition(partition, ["query_name"], with_file_position=True):
            ids.extend(zip(batch.column("file_position").to_pylist(), batch.column("query_name").to_pylist()))
    return ids


def capped(ref_id: int, beg: int, end: int, lengths: Sequence[int]) -> Region:
    """A region as the samtools parser leaves it: an end past the reference is capped when
    the region starts inside it (reads placed past the end stay reachable otherwise)."""
    if beg < lengths[ref_id] < end:
        end = lengths[ref_id]
    return Region(ref_id, "", beg, end)


def random_region_sets(oracle: PysamOracle, lengths: Sequence[int], rng: random.Random,
                       count: int) -> List[List[Region]]:
    """Sets of 1-4 regions: around real reads (so most hit something), anywhere, whole
    references, overlapping twins (a read in both must come once), and sometimes "*"."""
    sets = []
    for _ in range(count):
        regions = [_random_region(oracle, lengths, rng) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            twin = rng.choice(regions)
            shift = rng.randrange(0, max(1, (twin.end - twin.beg) // 2 + 1))
            regions.append(capped(twin.ref_id, twin.beg + shift, twin.end + shift + 1, lengths))
        if rng.random() < 0.25:
            regions.append(Region(-1, "*", 0, 0))
        sets.append(regions)
    return sets


def _random_region(oracle: PysamOracle, lengths: Sequence[int], rng: random.Random) -> Region:
    choice = rng.random()
    if oracle.placed_starts and choice < 0.6:
        ref_id, pos = rng.choice(oracle.placed_starts)
        beg = max(0, pos - rng.choice([0, 1, 50, 20_000]))
    else:
        ref_id = rng.randrange(len(lengths))
        beg = rng.randrange(max(lengths[ref_id], 1))
    if choice > 0.9:
        return Region(ref_id, "", 0, max(lengths[ref_id], 1))  # a whole reference
    return capped(ref_id, beg, beg + rng.choice([1, 100, 10_000, 100_000, 3_000_000]), lengths)


def as_text(regions: Sequence[Region], names: Sequence[str]) -> List[str]:
    """samtools strings (1-based inclusive; braces for names with colons)."""
    return [str(Region(r.ref_id, names[r.ref_id], r.beg, r.end)) if r.ref_id >= 0 else "*" for r in regions]


def assert_matches_fetch(path: Path, oracle: PysamOracle, regions: Sequence[Region], names: Sequence[str],
                         split_size=None, index_path: Optional[Path] = None) -> List[ReadId]:
    """Our reads for ``regions`` (given as strings) are exactly pysam's union, none twice."""
    query = as_text(regions, names)
    index = None if index_path is None else str(index_path)
    try:
        expected = oracle.union(regions)
    except StaleIndex as stale:
        # Nothing to compare with; but we must fail loudly too, never return partial reads.
        with pytest.raises(SparkBamError):
            read_ids(path, query, split_size, index)
        pytest.skip(f"pysam cannot fetch with this index ({stale}); ours raised an error too")
    got = read_ids(path, query, split_size, index)
    assert len(got) == len(set(got)), f"a read came twice for {query}"
    assert sorted(got) == expected, f"reads differ from pysam fetch for {query}"
    return got


def check_random_queries(bam: Path, index: Path, seed: int, count: int = 8, read_budget: int = 60_000) -> None:
    """Random region sets at the default split size and at a tiny one (cut chunks)."""
    with open_with_pysam(bam, index) as handle:
        oracle = PysamOracle(handle)
        if not handle.nreferences:
            assert_matches_fetch(bam, oracle, [Region(-1, "*", 0, 0)], [], index_path=index)
            return
        names, lengths = handle.references, handle.lengths
        compared = 0
        for i, regions in enumerate(random_region_sets(oracle, lengths, random.Random(seed), count)):
            split_size = None if i % 2 == 0 else random.Random(seed + i).choice([20_000, 70_000])
            compared += len(assert_matches_fetch(bam, oracle, regions, names, split_size, index))
            if compared > read_budget:
                break
        assert_matches_fetch(bam, oracle, [Region(-1, "*", 0, 0)], names, index_path=index)


# -- the corpus --------------------------------------------------------------------------------


def corpus_pair_params() -> list:
    """One param per (BAM, index) pair, named after the index (a BAM may have a BAI and a CSI)."""
    pairs = corpus_indexed_bams()
    by_index = {index: bam for bam, index in pairs}
    return [pytest.param((by_index[p.values[0]], p.values[0]), id=p.id, marks=p.marks)
            if p.values[0] is not None else p for p in corpus_params([index for _, index in pairs])]


@pytest.mark.corpus
@pytest.mark.parametrize("pair", corpus_pair_params())
def test_corpus_random_intervals_match_fetch(pair):
    bam, index = pair
    check_random_queries(bam, index, seed=len(bam.name))


# -- generated BAMs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Dict[str, Path]:
    """BAI and CSI, and a CSI on a contig longer than BAI allows."""
    root = tmp_path_factory.mktemp("intervals")
    (root / "csi").mkdir()
    return {
        "bai": write_indexed_bam(root / "gen.bam", GENERATED_REFS, 12_000, seed=31),
        "csi": write_indexed_bam(root / "csi" / "gen.bam", GENERATED_REFS, 8_000, seed=32, index_args=("-c",)),
        "huge": write_indexed_bam(root / "huge.bam", [("big", (1 << 30) + 5_000), ("small", 50_000)],
                                  3_000, seed=33, index_args=("-c",)),
    }


def index_of(bam: Path) -> Path:
    return next(Path(str(bam) + ext) for ext in (".csi", ".bai") if Path(str(bam) + ext).is_file())


@pytest.mark.parametrize("kind", ["bai", "csi", "huge"])
def test_generated_random_intervals_match_fetch(generated, kind):
    bam = generated[kind]
    check_random_queries(bam, index_of(bam), seed={"bai": 1, "csi": 2, "huge": 3}[kind], count=12)


def test_whole_contig_spreads_over_partitions(generated):
    """One big chunk (all of chr1) is cut at index record starts: many partitions, each
    about the split size, together exactly fetch(chr1)."""
    bam = generated["bai"]
    partitions = plan_interval_partitions(bam, ["chr1"], split_size=20_000)
    assert len(partitions) >= 4
    assert sum(p.verify_end for part in partitions for p in part.pieces) >= 3  # planner's cuts
    with open_with_pysam(bam, index_of(bam)) as handle:
        oracle = PysamOracle(handle)
        got = partition_read_ids(partitions)
        assert len(got) == len(set(got)) and sorted(got) == oracle.union([Region(0, "chr1", 0, 2_000_000)])
    # The default split size keeps it whole.
    assert len(plan_interval_partitions(bam, ["chr1"])) == 1


def test_whole_contig_spreads_over_partitions_with_csi(generated):
    bam = generated["csi"]
    partitions = plan_interval_partitions(bam, ["chr3"], split_size=20_000)
    assert len(partitions) >= 3
    with open_with_pysam(bam, index_of(bam)) as handle:
        got = partition_read_ids(partitions)
        assert sorted(got) == PysamOracle(handle).union([Region(3, "chr3", 0, 5_000_000)])


def test_pieces_tile_each_chunk_in_file_order(generated):
    partitions = plan_interval_partitions(generated["bai"], ["chr1", "chr2:1-100000", "chr3"], split_size=50_000)
    pieces = [p for part in partitions for p in part.pieces]
    assert all(isinstance(p, ChunkPiece) for p in pieces)
    assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:]))
    assert all(p.start < p.end for p in pieces)


# -- the index fixture matrix: every layout the project's writer makes ---------------------------


LAYOUT_KINDS = ("short_reads", "long_reads", "long_cigar", "many_blocks")
# Layouts samtools cannot index: cut files, and foreign gzip subfields before BC (htslib
# then does not take the file for BGZF).
UNINDEXABLE_LAYOUTS = ("truncated", "no_eof", "extra_subfield")


def test_fixture_layouts_match_fetch(bam_fixtures, tmp_path):
    """Sorted fixtures in every layout (records across blocks, empty blocks mid-file, tiny
    blocks, level 0...), indexed by samtools: random queries equal fetch."""
    checked = 0
    for name, fixture in sorted(bam_fixtures.items()):
        if fixture.kind not in LAYOUT_KINDS or fixture.layout in UNINDEXABLE_LAYOUTS:
            continue
        bam = tmp_path / f"{name}.bam"
        shutil.copyfile(fixture.path, bam)
        pysam.index(str(bam))
        check_random_queries(bam, Path(str(bam) + ".bai"), seed=checked, count=4)
        checked += 1
    assert checked >= 8


# -- .bai.json: the same reads from fewer index bytes -------------------------------------------------


def test_bai_json_route_gives_the_same_reads(generated, tmp_path):
    bam = tmp_path / "gen.bam"
    shutil.copyfile(generated["bai"], bam)
    shutil.copyfile(str(generated["bai"]) + ".bai", str(bam) + ".bai")
    query = ["chr2:1000-200000", "chr3", "*"]
    plain = read_ids(bam, query, 100_000)
    write_bai_json(str(bam) + ".bai")
    assert Path(str(bam) + ".bai.json").is_file()
    assert read_ids(bam, query, 100_000) == plain
    assert read_ids(bam, query, 100_000, use_bai_json=False) == plain


def test_references_out_of_header_order(tmp_path):
    """An indexed BAM need only keep each reference's reads together and sorted (htslib's
    indexer checks no more): here chr3's reads come first.  Pieces spanning references must
    not stop early on a header-order assumption."""
    source = write_indexed_bam(tmp_path / "sorted.bam", GENERATED_REFS, 3_000, seed=35, unplaced=20)
    bam = tmp_path / "shuffled.bam"
    with pysam.AlignmentFile(str(source)) as handle:
        reads = list(handle.fetch(until_eof=True))
        by_ref = {ref: [r for r in reads if r.reference_id == ref] for ref in (3, 0, 1, 2, -1)}
        with pysam.AlignmentFile(str(bam), "wb", header=handle.header) as out:
            for ref in (3, 0, 1, 2, -1):
                for read in by_ref[ref]:
                    out.write(read)
    pysam.index(str(bam))
    with open_with_pysam(bam, Path(str(bam) + ".bai")) as handle:
        oracle = PysamOracle(handle)
        names = handle.references
        for regions in ([Region(3, "", 0, 5_000_000), Region(0, "", 0, 40_000)],
                        [Region(0, "", 0, 2_000_000), Region(1, "", 0, 300_000), Region(3, "", 0, 30_000)],
                        [Region(3, "", 4_000_000, 5_000_000), Region(0, "", 0, 10), Region(-1, "*", 0, 0)]):
            for split_size in (None, 20_000):
                assert_matches_fetch(bam, oracle, regions, names, split_size, Path(str(bam) + ".bai"))
        write_bai_json(str(bam) + ".bai")  # the .bai.json route finds the tail from a header-order guess
        got = read_ids(bam, ["*", "chr2"])
        assert sorted(got) == oracle.union([Region(-1, "*", 0, 0), Region(1, "", 0, 300_000)])
