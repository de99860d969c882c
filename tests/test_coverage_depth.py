"""Coverage equals ``samtools depth`` at every base: generated BAMs (every CIGAR op, every
filtered flag, read groups, reads across split boundaries at several split sizes) and the
real corpus; strand, read-group and sample tracks sum to ``all``."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from depth_fixtures.data import CONTIGS, samtools_depth, write_coverage_bam
from fixtures import build_fixture
from fixtures.content_special import long_cigar
from sparkbam_py.coverage.blocks import DEFAULT_EXCLUDE_FLAGS, DepthFilter
from sparkbam_py.coverage.compute import compute_coverage_local, plan_coverage
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.errors import ConfigError

pytestmark = pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not installed")
ALL_GROUPINGS = ("strand", "read_group", "sample")


@pytest.fixture(scope="module")
def coverage_bam(tmp_path_factory):
    return write_coverage_bam(tmp_path_factory.mktemp("coverage"))


def stored(store_path) -> CoverageStore:
    return CoverageStore(store_path)


def assert_equals_samtools(store: CoverageStore, truth: dict, contigs, column: int = 0, times: int = 1):
    for name, length in contigs:
        expected = truth.get(name, np.zeros(0, dtype=np.int64))[:length]  # samtools also prints past the end
        expected = np.pad(expected, (0, length - len(expected)))
        assert np.array_equal(store.values(name, 0, length)[:, column], times * expected), name


def assert_groupings_sum_to_all(store: CoverageStore):
    prefixes = {"strand": ("+", "-"), "rg": ("rg:",), "sample": ("sample:",)}
    for name, _ in CONTIGS:
        values = store.values(name, 0, store.length(name)).astype(np.int64)
        for starts in prefixes.values():
            columns = [i for i, track in enumerate(store.tracks) if track.startswith(starts)]
            assert columns, starts
            assert np.array_equal(values[:, columns].sum(axis=1), values[:, 0]), (name, starts)


@pytest.mark.parametrize("split_size, chunk_length", [(2_000, 1024), (30_000, 4096), (10 << 20, None)])
@pytest.mark.parametrize("deletions", [False, True])
def test_depth_equals_samtools_at_every_base(coverage_bam, tmp_path, split_size, chunk_length, deletions):
    out = tmp_path / "store"
    compute_coverage_local([str(coverage_bam)], str(out), split_size=split_size, groupings=ALL_GROUPINGS,
                           depth_filter=DepthFilter(count_deletions=deletions), chunk_length=chunk_length)
    store = stored(out)
    assert_equals_samtools(store, samtools_depth(coverage_bam, *(["-J"] if deletions else [])), CONTIGS)
    assert_groupings_sum_to_all(store)
    assert store.tracks == ["all", "+", "-", "rg:rg1", "rg:rg2", "rg:rg3", "rg:none",
                            "sample:tissueX", "sample:tissueY", "sample:none"]


@pytest.mark.parametrize("depth_filter, options", [
    (DepthFilter(min_mapq=20), ["-Q", "20"]),
    (DepthFilter(exclude_flags=DEFAULT_EXCLUDE_FLAGS & ~0x400), ["-g", "0x400"]),
    (DepthFilter(exclude_flags=DEFAULT_EXCLUDE_FLAGS | 0x10 | 0x800), ["-G", "0x810"]),
])
def test_filters_match_samtools_options(coverage_bam, tmp_path, depth_filter, options):
    compute_coverage_local([str(coverage_bam)], str(tmp_path / "s"), split_size=30_000, depth_filter=depth_filter)
    assert_equals_samtools(stored(tmp_path / "s"), samtools_depth(coverage_bam, *options), CONTIGS)


def test_required_flags_keep_only_reads_with_them(coverage_bam, tmp_path):
    compute_coverage_local([str(coverage_bam)], str(tmp_path / "rev"), depth_filter=DepthFilter(require_flags=0x10))
    compute_coverage_local([str(coverage_bam)], str(tmp_path / "strand"), groupings=("strand",))
    reverse, by_strand = stored(tmp_path / "rev"), stored(tmp_path / "strand")
    for name, length in CONTIGS:
        assert np.array_equal(reverse.values(name, 0, length)[:, 0], by_strand.values(name, 0, length, ["-"])[:, 0])


def test_files_are_summed_and_contigs_joined_by_name(coverage_bam, tmp_path):
    other = write_coverage_bam(tmp_path, "other", n=800, seed=5, layout="htsjdk")
    compute_coverage_local([str(coverage_bam), str(other)], str(tmp_path / "s"), split_size=20_000,
                           chunk_length=1024)
    first, second = samtools_depth(coverage_bam), samtools_depth(other)
    total = {name: np.pad(first.get(name, []), (0, length))[:length] + np.pad(second.get(name, []), (0, length))[:length]
             for name, length in CONTIGS}
    assert_equals_samtools(stored(tmp_path / "s"), total, CONTIGS)


def test_unsorted_input_gives_the_sorted_inputs_coverage(coverage_bam, tmp_path):
    unsorted = write_coverage_bam(tmp_path, "unsorted", sort=False)  # same seed: the same reads
    compute_coverage_local([str(unsorted)], str(tmp_path / "s"), split_size=2_000, groupings=ALL_GROUPINGS)
    compute_coverage_local([str(coverage_bam)], str(tmp_path / "t"), split_size=30_000, groupings=ALL_GROUPINGS)
    for name, length in CONTIGS:
        assert np.array_equal(stored(tmp_path / "s").values(name, 0, length), stored(tmp_path / "t").values(name, 0, length))


def test_long_cigars_from_the_cg_tag_count(tmp_path):
    path = build_fixture(long_cigar(), "htsjdk", tmp_path).path
    compute_coverage_local([str(path)], str(tmp_path / "s"), split_size=50_000,
                           depth_filter=DepthFilter(count_deletions=True))
    store = stored(tmp_path / "s")
    assert_equals_samtools(store, samtools_depth(path, "-J"), [(c["name"], c["length"]) for c in store.contigs])


def test_contigs_of_different_lengths_under_one_name_are_refused(coverage_bam, tmp_path):
    import pysam

    other = tmp_path / "other.bam"
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chrA", "LN": 5}]}
    with pysam.AlignmentFile(str(other), "wb", header=header):
        pass
    with pytest.raises(ConfigError, match="chrA is 5 bp"):
        plan_coverage([str(coverage_bam), str(other)])


# -- the real corpus ------------------------------------------------------------------------

MAX_CORPUS_BYTES = 3 << 20
MAX_CORPUS_BASES = 30_000_000
CORPUS_SAMPLE = 100


def corpus_candidates(corpus_dir):
    """Coordinate-sorted corpus BAMs samtools reads, small enough to check every base."""
    import random

    rows = [line.split("\t") for line in (corpus_dir / "MANIFEST.tsv").read_text().splitlines()[1:]]
    picked = [row[0] for row in rows if row[9] == "pass" and "actually_coord_sorted=Y" in row[10]
              and int(row[3]) <= MAX_CORPUS_BYTES]
    return sorted(random.Random(11).sample(picked, min(CORPUS_SAMPLE, len(picked))))


def samtools_nonzero(path) -> dict:
    """``samtools depth`` (no -a): the positions it lists, per contig, as {contig: (pos0, depth)}."""
    result = subprocess.run(["samtools", "depth", str(path)], capture_output=True, text=True, timeout=120)
    if result.returncode:
        return None
    found = {}
    for line in result.stdout.splitlines():
        contig, pos, depth = line.split("\t")
        found.setdefault(contig, ([], []))
        found[contig][0].append(int(pos) - 1)
        found[contig][1].append(int(depth))
    return found


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_depth_equals_samtools(corpus_dir, tmp_path):
    from sparkbam_py.bam.file import open_bam

    checked = 0
    for name in corpus_candidates(corpus_dir):
        path = corpus_dir / name
        with open_bam(str(path)) as bam:
            if sum(bam.header.reference_lengths) > MAX_CORPUS_BASES:
                continue
        truth = samtools_nonzero(path)
        if truth is None:
            continue
        out = tmp_path / f"s{checked}"
        compute_coverage_local([str(path)], str(out), split_size=64 << 10)
        store = stored(out)
        for contig in store.contigs:
            values = store.values(contig["name"], 0, contig["length"])[:, 0].astype(np.int64)
            positions, depths = truth.get(contig["name"], ([], []))
            positions, depths = np.asarray(positions, dtype=np.int64), np.asarray(depths, dtype=np.int64)
            inside = positions < contig["length"]
            expected = np.zeros(contig["length"], dtype=np.int64)
            expected[positions[inside]] = depths[inside]
            assert np.array_equal(values, expected), (name, contig["name"])
        shutil.rmtree(out)
        checked += 1
    print(f"{checked} corpus BAMs checked")
    assert checked >= 5


MIN_GENOME_BASES = 1_000_000_000
MAX_GENOME_CORPUS_BYTES = 2 << 20
GENOME_SAMPLE = 8


def genome_header_candidates(corpus_dir):
    """Small coordinate-sorted corpus BAMs whose headers carry a whole genome (GRCh37/38, ...)."""
    import random

    from sparkbam_py.bam.file import open_bam

    rows = [line.split("\t") for line in (corpus_dir / "MANIFEST.tsv").read_text().splitlines()[1:]]
    found = []
    for row in rows:
        if row[9] != "pass" or "actually_coord_sorted=Y" not in row[10] or int(row[3]) > MAX_GENOME_CORPUS_BYTES:
            continue
        with open_bam(str(corpus_dir / row[0])) as bam:
            if sum(bam.header.reference_lengths) >= MIN_GENOME_BASES:
                found.append(row[0])
    return sorted(random.Random(19).sample(found, min(GENOME_SAMPLE, len(found))))


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_bams_with_genome_headers_cost_what_their_reads_do(corpus_dir, tmp_path):
    """Real BAMs of a few reads whose headers carry a human genome: each store is a small
    fraction of the BAM (the old layout wrote 15 GB each), and equals samtools depth."""
    checked = 0
    for name in genome_header_candidates(corpus_dir):
        path = corpus_dir / name
        truth = samtools_nonzero(path)
        if truth is None:
            continue
        out = tmp_path / f"s{checked}"
        manifest = compute_coverage_local([str(path)], str(out), split_size=64 << 10)
        assert manifest["stored_bytes"] <= path.stat().st_size + (256 << 10), name
        store = stored(out)
        for contig in store.contigs:
            covered = [(s, e, v) for starts, ends, values in store.runs(contig["name"], 0)
                       for s, e, v in zip(starts.tolist(), ends.tolist(), values.tolist())]
            positions = np.concatenate([np.arange(s, e) for s, e, _ in covered]) if covered else np.zeros(0, int)
            depths = np.concatenate([np.full(e - s, v) for s, e, v in covered]) if covered else np.zeros(0, int)
            expected_positions, expected_depths = truth.get(contig["name"], ([], []))
            expected_positions = np.asarray(expected_positions, dtype=np.int64)
            keep = (np.asarray(expected_depths) > 0) & (expected_positions < contig["length"])
            assert np.array_equal(positions, expected_positions[keep]), (name, contig["name"])
            assert np.array_equal(depths, np.asarray(expected_depths, dtype=np.int64)[keep]), (name, contig["name"])
        shutil.rmtree(out)
        checked += 1
    print(f"{checked} corpus BAMs with genome-sized headers checked")
    assert checked >= 5
