"""Interval planning and reading: pieces, cuts, groups, errors, pickling, the unplaced tail,
the ``.bai.json`` route over HTTP, long CIGARs, and the ``index-bai`` command."""
from __future__ import annotations

import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest

from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.errors import ConfigError, InputIOError, SplitVerificationError
from sparkbam_py.index.bai_json import build_bai_json, write_bai_json
from sparkbam_py.index.chunks import Chunk
from sparkbam_py.index.regions import Region
from sparkbam_py.intervals import (
    BaiJsonIndex,
    ChunkPiece,
    TailRange,
    WholeIndex,
    open_index,
    plan_interval_partitions,
    read_interval_partition,
)
from sparkbam_py.intervals.pieces import PIECE_OVERHEAD, cut_chunk, distance, group_pieces
from sparkbam_py.pos import Pos
from index_oracle import CORPUS, GENERATED_REFS, open_with_pysam, write_indexed_bam
from test_intervals_oracle import PysamOracle, as_text, partition_read_ids, random_region_sets, read_ids

MANY_REFS = [(f"contig{i}", 200_000) for i in range(40)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("intervals_unit") / "gen.bam", GENERATED_REFS, 4_000, seed=51)


@pytest.fixture(scope="module")
def big_tail(tmp_path_factory) -> Path:
    """Many unplaced reads: a tail far bigger than a small split size."""
    return write_indexed_bam(tmp_path_factory.mktemp("tail") / "tail.bam", GENERATED_REFS, 1_000, seed=52,
                             unplaced=6_000)


@pytest.fixture(scope="module")
def many_refs(tmp_path_factory) -> Path:
    """40 references with a .bai.json beside the .bai (for the index-of-index route)."""
    bam = write_indexed_bam(tmp_path_factory.mktemp("many_refs") / "many.bam", MANY_REFS, 8_000, seed=53)
    write_bai_json(str(bam) + ".bai")
    return bam


# -- pieces, cuts and groups ---------------------------------------------------------------------


def test_distance_is_spark_bams_pos_difference():
    assert distance(Pos(100, 0), Pos(400, 0)) == 300
    assert distance(Pos(100, 30), Pos(100, 330)) == 100  # in-block bytes / ratio 3
    assert distance(Pos(400, 0), Pos(100, 0)) == 0


def test_cut_chunk_at_record_starts_within_the_cap():
    starts = np.array([Pos(b, 0).virtual for b in range(1000, 10_000, 1000)], dtype=np.uint64)
    pieces = cut_chunk(Chunk(Pos(0, 5), Pos(10_000, 0)), starts, cap=2500)
    assert [(p.start.block_pos, p.end.block_pos) for p in pieces] == [(0, 2000), (2000, 4000), (4000, 6000),
                                                                      (6000, 8000), (8000, 10_000)]
    assert [p.verify_end for p in pieces] == [True] * 4 + [False]
    assert pieces[0].start == Pos(0, 5) and pieces[-1].end == Pos(10_000, 0)


def test_cut_chunk_without_starts_inside_or_under_the_cap_stays_whole():
    chunk = Chunk(Pos(0, 5), Pos(10_000, 0))
    assert cut_chunk(chunk, np.array([], dtype=np.uint64), cap=100) == [ChunkPiece(chunk.start, chunk.end)]
    assert cut_chunk(chunk, np.array([Pos(5000, 0).virtual], dtype=np.uint64), cap=20_000) == \
        [ChunkPiece(chunk.start, chunk.end)]


def test_cut_chunk_goes_past_the_cap_when_record_starts_are_sparse():
    starts = np.array([Pos(5000, 0).virtual, Pos(5100, 0).virtual], dtype=np.uint64)
    pieces = cut_chunk(Chunk(Pos(0, 0), Pos(10_000, 0)), starts, cap=1000)
    assert [(p.start.block_pos, p.end.block_pos) for p in pieces] == [(0, 5000), (5000, 5100), (5100, 10_000)]


def test_group_pieces_caps_consecutive_costs():
    pieces = [TailRange(0, 400), TailRange(400, 800), TailRange(800, 3000), TailRange(3000, 3100)]
    assert [[p.start for p in g] for g in group_pieces(pieces, cap=1000)] == [[0, 400], [800], [3000]]
    small = [ChunkPiece(Pos(i * 10, 0), Pos(i * 10 + 5, 0)) for i in range(10)]
    groups = group_pieces(small, cap=3 * PIECE_OVERHEAD + 100)
    assert [len(g) for g in groups] == [3, 3, 3, 1]  # every piece inflates a block: overhead counts


# -- planning over real indexes -------------------------------------------------------------------


def test_partitions_pickle_and_still_read(generated):
    partitions = plan_interval_partitions(generated, ["chr1:1-500000", "chr3", "*"], split_size=30_000)
    copies = pickle.loads(pickle.dumps(partitions))
    assert copies == partitions
    assert partition_read_ids(copies) == partition_read_ids(partitions)
    assert len(pickle.dumps(partitions[0])) < 8_000  # small: names and lengths, no SAM text


def test_partitions_carry_only_the_intervals_they_need(generated):
    regions = [f"chr1:{b + 1}-{b + 50}" for b in range(0, 1_900_000, 100_000)] + ["chr3:100-200"]
    partitions = plan_interval_partitions(generated, regions, split_size=10_000)
    assert len(partitions) > 1
    assert all(len(p.intervals) < len(regions) for p in partitions)
    assert sum(len(p.intervals) for p in partitions) >= len(regions) - 2  # empty windows may meet no chunk


def test_string_of_comma_separated_regions(generated):
    assert read_ids(generated, "chr1:1,000-200,000,chr2;chr3:5-10") == \
        read_ids(generated, ["chr1:1000-200000", "chr2", "chr3:5-10"])


def test_unknown_contig_is_a_clear_error(generated):
    with pytest.raises(ConfigError, match="unknown reference 'chrZ'"):
        plan_interval_partitions(generated, ["chr1", "chrZ:1-10"])


def test_no_index_is_a_clear_error(generated, tmp_path):
    bam = tmp_path / "noindex.bam"
    shutil.copyfile(generated, bam)
    with pytest.raises(ConfigError, match="samtools index"):
        plan_interval_partitions(bam, ["chr1"])
    assert isinstance(open_index(str(bam), str(generated) + ".bai"), WholeIndex)  # explicit index works


def test_changed_file_is_detected(generated, tmp_path):
    bam = tmp_path / "changing.bam"
    shutil.copyfile(generated, bam)
    shutil.copyfile(str(generated) + ".bai", str(bam) + ".bai")
    partitions = plan_interval_partitions(bam, ["chr1"])
    with open(bam, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InputIOError, match="changed"):
        list(read_interval_partition(partitions[0]))


def test_a_cut_off_a_record_start_raises_instead_of_inventing_reads(generated):
    partition = plan_interval_partitions(generated, ["chr1"])[0]
    piece = partition.pieces[0]
    middle = Pos(piece.start.block_pos, piece.start.offset + 7)  # inside the first record
    bad = type(partition)(partition.path, partition.file_size, 0, (ChunkPiece(piece.start, middle, verify_end=True),),
                          partition.intervals, partition.header, 1)
    with pytest.raises(SplitVerificationError, match="chain on to"):
        list(read_interval_partition(bad))


# -- the unplaced tail ----------------------------------------------------------------------------------


def test_big_unplaced_tail_is_read_in_byte_ranges(big_tail):
    partitions = plan_interval_partitions(big_tail, ["*"], split_size=40_000)
    ranges = [p for part in partitions for p in part.pieces if isinstance(p, TailRange)]
    assert len(ranges) >= 3
    with open_with_pysam(big_tail, Path(str(big_tail) + ".bai")) as handle:
        oracle = PysamOracle(handle)
        got = partition_read_ids(partitions)
        assert len(got) == len(set(got)) == 6_000
        assert sorted(got) == oracle.union([Region(-1, "*", 0, 0)])
        # With placed regions beside it, still each read once.
        regions = [Region(0, "chr1", 0, 2_000_000), Region(-1, "*", 0, 0)]
        got = read_ids(big_tail, as_text(regions, handle.references), split_size=40_000)
        assert len(got) == len(set(got)) and sorted(got) == oracle.union(regions)


# -- .bai.json: fewer index bytes, same reads, also over HTTP ------------------------------------------------


def test_bai_json_fetches_only_the_queried_slices(many_refs):
    bai_size = Path(str(many_refs) + ".bai").stat().st_size
    with open_index(str(many_refs)) as index:
        assert isinstance(index, BaiJsonIndex)
        index.reference(7)
        fetched = index.fetched()
    assert fetched["requests"] == 2  # the JSON, then reference 7's slice
    assert fetched["bytes_fetched"] < bai_size / 10
    with open_index(str(many_refs), use_bai_json=False) as whole:
        assert isinstance(whole, WholeIndex) and whole.fetched()["bytes_fetched"] == bai_size


def test_bai_json_over_http_gives_the_local_reads(many_refs):
    query = ["contig3:1000-90000", "contig39", "*"]
    local = read_ids(many_refs, query, use_bai_json=False)
    with RangeHTTPServer(many_refs.parent) as server:
        url = server.url_for(many_refs.name)
        assert read_ids(url, query) == local
        with open_index(url) as index:
            assert isinstance(index, BaiJsonIndex)
            index.reference(3), index.reference(39), index.unplaced_start()
            assert index.fetched()["requests"] == 3  # JSON + two slices (39 is also the last)


def test_bai_json_unplaced_start_matches_the_whole_index(many_refs):
    with open_index(str(many_refs)) as sliced, open_index(str(many_refs), use_bai_json=False) as whole:
        assert sliced.unplaced_start() == whole.unplaced_start() is not None


# -- long CIGARs in CG tags --------------------------------------------------------------------------------


def test_cg_tag_cigar_read_found_by_its_far_end(tmp_path):
    """pbbam's long-cigar file (a read with > 65535 CIGAR ops, SAMv1 §4.2.2), indexed here."""
    source = CORPUS / "PacificBiosciences__pbbam" / "tests__data__long-cigar-1.7.bam"
    if not source.is_file():
        pytest.skip(f"{source} not found (corpus absent)")
    bam = tmp_path / "long-cigar.bam"
    shutil.copyfile(source, bam)
    pysam.index(str(bam))
    with pysam.AlignmentFile(str(bam)) as handle:
        read = next(handle.fetch(until_eof=True))
        assert len(read.cigartuples) > 65535
        name, end, query_name = read.reference_name, read.reference_end, read.query_name
    got = read_ids(bam, [f"{name}:{end}-{end}"])  # its last aligned base only
    assert [found for _, found in got] == [query_name]
    assert read_ids(bam, [f"{name}:{end + 1}-{end + 10}"]) == []
    with open_with_pysam(bam, Path(str(bam) + ".bai")) as handle:
        oracle = PysamOracle(handle)
        for regions in random_region_sets(oracle, handle.lengths, random.Random(3), 5):
            got = read_ids(bam, as_text(regions, handle.references))
            assert sorted(got) == oracle.union(regions)


# -- the index-bai command ------------------------------------------------------------------------------------


def test_index_bai_command_writes_bai_indexers_json(generated, tmp_path, capsys):
    bai = tmp_path / "x.bam.bai"
    shutil.copyfile(str(generated) + ".bai", bai)
    assert cli_main(["index-bai", str(bai), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    out = tmp_path / "x.bam.bai.json"
    assert summary["path"] == str(out) and summary["references"] == len(GENERATED_REFS)
    assert json.loads(out.read_text()) == build_bai_json(bai.read_bytes())
    assert cli_main(["index-bai", str(bai), str(tmp_path / "custom.json")]) == 0
    assert "minBlockIndex" in capsys.readouterr().out
    assert json.loads((tmp_path / "custom.json").read_text()) == json.loads(out.read_text())


def test_index_bai_command_rejects_a_non_bai(tmp_path, capsys):
    bad = tmp_path / "bad.bai"
    bad.write_bytes(b"CSI\x01" + bytes(20))
    assert cli_main(["index-bai", str(bad)]) == 2
    assert "IndexFormatError" in capsys.readouterr().err
