"""The .sbi splitting index: format, computation from the record walk, splits, staleness."""
import hashlib
import struct
import warnings

import numpy as np
import pysam
import pytest

from split_truth import readable_corpus_bams, split_sizes_for, truth_splits
from sparkbam_py.bam.file import open_bam
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.sbi import (
    SbiIndex,
    StaleIndexWarning,
    compute_sbi,
    find_sbi,
    parse_sbi,
    read_sbi,
    sbi_path_for,
    splits_from_sbi,
    write_sbi,
)
from sparkbam_py.pos import Pos
from sparkbam_py.bam.walk import iter_record_chunks
from sparkbam_py.bam.splits import ByteRange, compute_byte_ranges, find_split_start, splits_from_starts

SPARK_BAM_1 = "hammerlab__spark-bam/test-bams__src__main__resources__1.bam"


def readable(bam_fixtures):
    return {name: f for name, f in bam_fixtures.items() if f.readable}


def sbi_of(path, granularity=1):
    with open_bam(str(path)) as bam:
        return compute_sbi(bam, granularity)


def after_last_record(fixture):
    """htsjdk's final offset: the file pointer once the last record is read (the header's
    end when there are none), named by the next block at offset 0 at a block's end."""
    return fixture.pos_at(fixture.data_size) if fixture.n_records else fixture.header_end


def search_splits(path, split_size):
    """The splits the executors find, computed here one range after another."""
    with open_bam(str(path)) as bam:
        ranges = compute_byte_ranges(bam.size, split_size)
        starts = [find_split_start(bam.reader, bam.header, r.start, CheckerConfig(), stop=Pos(r.end, 0))
                  for r in ranges]
        return splits_from_starts(starts, bam.size)


# -- format ---------------------------------------------------------------------------------


def test_header_layout_field_by_field():
    index = SbiIndex(597482, 3, 2, np.array([Pos(0, 5).virtual, Pos(9, 1).virtual, Pos(20, 0).virtual]),
                     md5=bytes(range(16)), uuid=bytes(range(16, 32)))
    data = index.to_bytes()
    assert len(data) == 68 + 3 * 8
    assert data[0:4] == b"SBI\x01"
    assert struct.unpack_from("<q", data, 4)[0] == 597482
    assert data[12:28] == bytes(range(16)) and data[28:44] == bytes(range(16, 32))
    assert struct.unpack_from("<qqq", data, 44) == (3, 2, 3)
    assert struct.unpack_from("<3q", data, 68) == (5, 9 << 16 | 1, 20 << 16)
    assert parse_sbi(data) == index


@pytest.mark.parametrize("mutate, message", [
    (lambda d: b"SBJ\x01" + d[4:], "magic"),
    (lambda d: d[:60], "shorter"),
    (lambda d: d[:-8], "announces 3 offsets"),
    (lambda d: d[:60] + struct.pack("<q", 0), "announces 0 offsets"),
    (lambda d: d[:68] + struct.pack("<3q", 100, 99, 200), "not in order"),
    (lambda d: d[:68] + struct.pack("<3q", -1, 99, 200), "negative"),
])
def test_malformed_indexes_are_rejected(mutate, message):
    good = SbiIndex(1000, 3, 1, np.array([10, 20, 30])).to_bytes()
    with pytest.raises(IndexFormatError, match=message):
        parse_sbi(mutate(good), "x.sbi")


def test_chunk_follows_htsjdk_get_chunk():
    # Records at 0:100, 50:7, 90:0; next record would start at 120:0.
    index = SbiIndex(130, 3, 1, np.array([Pos(0, 100).virtual, Pos(50, 7).virtual,
                                          Pos(90, 0).virtual, Pos(120, 0).virtual]))
    assert index.chunk(0, 50) == (Pos(0, 100), Pos(50, 7))
    assert index.chunk(1, 50) is None  # no record starts in blocks 1..49
    assert index.chunk(50, 91) == (Pos(50, 7), Pos(120, 0))
    assert index.chunk(121, 130) is None  # both ends clamp to the last offset's block
    assert index.chunk(100, 130) is None  # only the end offset lies there: no record
    with pytest.raises(ValueError):
        index.chunk(5, 5)


# -- computed from the record walk ----------------------------------------------------------


@pytest.mark.parametrize("granularity", [1, 3, 4096])
def test_offsets_are_every_gth_record_then_the_end(bam_fixtures, granularity):
    for name, fixture in readable(bam_fixtures).items():
        index = sbi_of(fixture.path, granularity)
        expected = fixture.record_pos[::granularity] + [after_last_record(fixture)]
        assert index.positions == sorted(set(expected)), name
        assert (index.file_length, index.record_count, index.granularity) == \
            (fixture.file_size, fixture.n_records, granularity), name


def test_round_trip_through_a_file(bam_fixtures, tmp_path):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    index = sbi_of(fixture.path, 64)
    out = tmp_path / "x.sbi"
    assert write_sbi(index, str(out)) == out.stat().st_size == 68 + 8 * len(index.offsets)
    assert read_sbi(str(out)) == index


def test_spark_bam_1_bam_matches_disq_sbi_facts(corpus_dir):
    # Disq ships this BAM as 1-with-splitting-index.bam with an htsjdk .sbi (granularity 1):
    # 39,412 bytes, 4,917 records, fileLength 597,482, first 0:45846, last 597454:0
    # (peers.md §3.1, checked locally).
    index = sbi_of(corpus_dir / SPARK_BAM_1, 1)
    assert len(index.to_bytes()) == 39412
    assert (index.file_length, index.record_count, index.granularity) == (597482, 4917, 1)
    assert index.positions[0] == Pos(0, 45846) and index.last == Pos(597454, 0)
    assert index.md5 == index.uuid == bytes(16)


def test_offsets_equal_spark_bam_records_files(corpus_dir):
    for records in sorted(corpus_dir.glob("hammerlab__spark-bam/*.bam.records")):
        expected = [Pos(*map(int, line.split(","))) for line in records.read_text().split()]
        index = sbi_of(str(records)[: -len(".records")], 1)
        assert index.positions[:-1] == expected, records.name


def test_offsets_equal_htslib_tell(corpus_dir):
    # htslib's bgzf_tell before each record: an implementation independent of ours.
    for path in sorted(corpus_dir.glob("hammerlab__*/*.bam"))[:6]:
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            tells = []
            while True:
                tell = bam.tell()
                if next(bam, None) is None:
                    break
                tells.append(Pos.from_virtual(tell))
        assert sbi_of(path, 1).positions[:-1] == tells, path.name


# -- splits -----------------------------------------------------------------------------------


def test_splits_from_sbi_equal_the_records_truth(bam_fixtures):
    for name, fixture in readable(bam_fixtures).items():
        exact = sbi_of(fixture.path, 1)
        coarse = sbi_of(fixture.path, 5)
        for size in split_sizes_for(fixture.file_size):
            assert splits_from_sbi(exact, fixture.file_size, size) == \
                truth_splits(fixture.record_pos, fixture.file_size, size), (name, size)
            # Coarser: boundaries only at indexed records, still tiling every record.
            assert splits_from_sbi(coarse, fixture.file_size, size) == \
                truth_splits(fixture.record_pos[::5], fixture.file_size, size), (name, size)


def test_spark_bam_230k_splits(corpus_dir):
    # spark-bam's verified splits of 1.bam at 230 KB (spark-bam.md §3.3).
    index = sbi_of(corpus_dir / SPARK_BAM_1, 1)
    assert [str(s) for s in splits_from_sbi(index, 597482, "230k")] == [
        "0:45846-239479:312", "239479:312-484396:25", "484396:25-597482:0"]


def test_splits_from_sbi_equal_splits_from_search_on_fixtures(bam_fixtures):
    for name, fixture in readable(bam_fixtures).items():
        index = sbi_of(fixture.path, 1)
        # Fewer sizes than above: search costs far more than a lookup, and the truth test
        # already covers the tiny sizes.
        for size in sorted({max(1, fixture.file_size // k) for k in (1, 3, 11, 40)}):
            assert splits_from_sbi(index, fixture.file_size, size) == search_splits(fixture.path, size), (name, size)


def records_in(path, splits):
    with open_bam(str(path)) as bam:
        return [Pos.from_virtual(int(v)) for split in splits
                for chunk in iter_record_chunks(bam.reader, split.start, split.end)
                for v in chunk.virtual_offsets()]


def test_beside_an_empty_block_sbi_and_search_draw_the_boundary_one_record_apart(bam_fixtures):
    # A record right after a block's data is NAMED by the next block, here an empty one
    # (htslib and htsjdk agree). getChunk goes by names, so the range holding the empty
    # block gets the record; search goes by where its bytes are, the next range. Both tile
    # the records exactly; only the boundary differs, by that one record.
    fixture = bam_fixtures["short_reads.empty_midfile"]
    empty = {start for start, usize in zip(fixture.block_starts, fixture.block_usizes) if usize == 0}
    k, named = next((k, p) for k, p in enumerate(fixture.record_pos)
                    if k and p.offset == 0 and p.block_pos in empty)
    ranges = [ByteRange(0, named.block_pos + 1), ByteRange(named.block_pos + 1, fixture.file_size)]
    by_sbi = splits_from_sbi(sbi_of(fixture.path, 1), fixture.file_size, ranges=ranges)
    with open_bam(str(fixture.path)) as bam:
        starts = [find_split_start(bam.reader, bam.header, r.start, CheckerConfig(), stop=Pos(r.end, 0))
                  for r in ranges]
    by_search = splits_from_starts(starts, fixture.file_size)
    assert [s.end for s in by_sbi[:1]] == [fixture.record_pos[k + 1]]
    assert [s.end for s in by_search[:1]] == [named]
    assert records_in(fixture.path, by_sbi) == records_in(fixture.path, by_search) == fixture.record_pos


@pytest.mark.corpus
@pytest.mark.slow
def test_splits_from_sbi_equal_splits_from_search_on_the_corpus(corpus_dir):
    compared = 0
    for path in readable_corpus_bams(corpus_dir):
        index = sbi_of(path, 1)
        for size in sorted({max(1, index.file_length // k) for k in (2, 7, 30)}):
            assert splits_from_sbi(index, index.file_length, size) == search_splits(path, size), (path.name, size)
            compared += 1
    assert compared > 1000


def test_stale_index_is_refused_by_splits():
    index = SbiIndex(1000, 1, 1, np.array([10, 20]))
    with pytest.raises(IndexFormatError, match="stale"):
        splits_from_sbi(index, 1001, 100)


# -- beside the BAM -----------------------------------------------------------------------


def test_find_sbi_beside_the_bam(bam_fixtures, tmp_path):
    fixture = bam_fixtures["short_reads.htsjdk"]
    bam = tmp_path / "x.bam"
    bam.write_bytes(fixture.path.read_bytes())
    assert find_sbi(str(bam), fixture.file_size) is None  # none there: silently None
    index = sbi_of(bam, 1)
    write_sbi(index, str(bam) + ".sbi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert find_sbi(str(bam), fixture.file_size) == index
    with pytest.warns(StaleIndexWarning, match="stale"):
        assert find_sbi(str(bam), fixture.file_size + 1) is None
    (tmp_path / "x.bam.sbi").write_bytes(b"SBI\x01 too short")
    with pytest.warns(StaleIndexWarning, match="shorter"):
        assert find_sbi(str(bam), fixture.file_size) is None


def test_find_sbi_over_http(bam_fixtures, tmp_path):
    fixture = bam_fixtures["short_reads.block_aligned"]
    (tmp_path / "x.bam").write_bytes(fixture.path.read_bytes())
    index = sbi_of(tmp_path / "x.bam", 2)
    with RangeHTTPServer(str(tmp_path)) as server:
        url = server.url_for("x.bam")
        assert find_sbi(url, fixture.file_size) is None
        write_sbi(index, str(tmp_path / "x.bam.sbi"))
        assert find_sbi(url, fixture.file_size) == index


def test_sbi_path_keeps_url_queries_apart():
    assert sbi_path_for("/data/x.bam") == "/data/x.bam.sbi"
    assert sbi_path_for("s3://b/x.bam") == "s3://b/x.bam.sbi"
    assert sbi_path_for("https://h/x.bam?sig=abc") == "https://h/x.bam.sbi?sig=abc"


# -- the command ------------------------------------------------------------------------------


def test_index_sbi_command(bam_fixtures, tmp_path, capsys):
    fixture = bam_fixtures["long_reads.tiny_blocks"]
    bam = tmp_path / "x.bam"
    bam.write_bytes(fixture.path.read_bytes())
    assert cli_main(["index-sbi", str(bam), "--json"]) == 0
    report = capsys.readouterr().out
    assert '"granularity": 4096' in report and f'"records": {fixture.n_records}' in report
    assert read_sbi(str(bam) + ".sbi") == sbi_of(bam, 4096)
    out = tmp_path / "every.sbi"
    assert cli_main(["index-sbi", str(bam), str(out), "-g", "1", "--md5"]) == 0
    assert "Wrote" in capsys.readouterr().out
    written = read_sbi(str(out))
    assert written.positions[:-1] == fixture.record_pos
    assert written.md5 == hashlib.md5(bam.read_bytes()).digest()


def test_index_sbi_of_a_url_needs_an_output_path(bam_fixtures, tmp_path, capsys):
    fixture = bam_fixtures["short_reads.block_aligned"]
    (tmp_path / "x.bam").write_bytes(fixture.path.read_bytes())
    with RangeHTTPServer(str(tmp_path)) as server:
        url = server.url_for("x.bam")
        assert cli_main(["index-sbi", url]) == 2
        assert "give OUT" in capsys.readouterr().err
        out = tmp_path / "remote.sbi"
        assert cli_main(["index-sbi", url, str(out), "-g", "1"]) == 0
    assert read_sbi(str(out)).positions[:-1] == fixture.record_pos
