"""Deciding every position on runs too short for the chains (reading on as needed), the
stop position's mapping into a run, and the indexed truth."""
from __future__ import annotations

import numpy as np
import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.pos import Pos
from sparkbam_py.validators.eager import EagerChecker
from sparkbam_py.validators.fields import RunView
from sparkbam_py.validators.full import FullChecker
from sparkbam_py.validators.hadoop_bam import HadoopBamChecker
from sparkbam_py.validators.indexed import IndexedChecker, read_records_file, record_positions
from sparkbam_py.validators.records import References
from sparkbam_py.validators.runs import stop_index
from sparkbam_py.validators.scan import contiguous_stretches, decide_all, read_stretch


def checkers_of(bam):
    refs = References.of(bam.header)
    return {"eager": EagerChecker(refs), "full": FullChecker(refs), "hadoop_bam": HadoopBamChecker(bam.header.n_ref,
                                                                                                   bam.size)}


@pytest.mark.parametrize("name", ["long_reads.htsjdk", "long_reads.tiny_blocks", "short_reads.empty_midfile"])
def test_short_runs_are_read_on_until_every_call_is_decided(bam_fixtures, name):
    fixture = bam_fixtures[name]
    with open_bam(fixture.path) as bam:
        whole = bam.reader.read_run(0, 1 << 30)
        for label, checker in checkers_of(bam).items():
            expected = decide_all(bam.reader, whole, 0, len(whole), checker)
            assert not np.asarray(expected.need_more).any()
            # A run of just the first 5 blocks: most chains (and hadoop-bam windows) leave it.
            short = bam.reader.read_run(0, 1)
            for _ in range(4):
                short = bam.reader.read_run(0, len(short) + 1)
            first = checker.calls_range(RunView(short), 0, len(short))
            assert np.asarray(first.need_more).any(), (name, label)
            decided = decide_all(bam.reader, short, 0, len(short), checker)
            for got, want in zip(decided, expected):
                assert np.array_equal(np.asarray(got), np.asarray(want)[: len(short)]), (name, label)


def test_stretches_cover_the_selected_blocks_and_look_ahead(bam_fixtures):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    with open_bam(fixture.path) as bam:
        blocks = list(iter_block_info(bam.channel))
        chosen = blocks[2:5] + blocks[7:9]
        groups = contiguous_stretches(chosen)
        assert [len(group) for group in groups] == [3, 2]
        stretch = read_stretch(bam.reader, groups[0])
    assert stretch.end == sum(block.uncompressed_size for block in groups[0])
    assert stretch.run.block_starts[0] == groups[0][0].start
    assert len(stretch.run) > stretch.end  # the look-ahead past the stretch


def test_stop_index_maps_any_compressed_offset():
    from sparkbam_py.bgzf.run import InflatedRun

    run = InflatedRun(bytes(300), [100, 200, 250, 400], [0, 100, 150, 300], at_end=False)
    assert stop_index(run, None) == (300, False)
    assert stop_index(run, Pos(200, 7)) == (107, True)
    assert stop_index(run, Pos(200, 500)) == (150, True)  # offset past the block's data
    assert stop_index(run, Pos(220, 0)) == (150, True)  # not a block start: blocks >= it excluded
    assert stop_index(run, Pos(400, 0)) == (300, True)
    assert stop_index(run, Pos(400, 3)) == (300, False)
    assert stop_index(run, Pos(900, 0)) == (300, False)
    assert stop_index(run, Pos(50, 0)) == (0, True)


def test_records_file_round_trip_and_errors(tmp_path, bam_fixtures):
    fixture = bam_fixtures["short_reads.htsjdk"]
    path = tmp_path / "x.records"
    path.write_text("".join(f"{p.block_pos},{p.offset}\n" for p in fixture.record_pos))
    expected = np.array([p.virtual for p in fixture.record_pos])
    assert np.array_equal(read_records_file(path), expected)
    with open_bam(fixture.path) as bam:
        assert record_positions(bam, str(path))[1] == str(path)
        walked, source = record_positions(bam)
        assert source == "walk" and np.array_equal(walked, expected)
        run = bam.reader.read_run(0, 1 << 30)
        truth = IndexedChecker(walked)
        calls = truth.calls_range(RunView(run), 0, len(run))
        assert np.array_equal(run.virtual_offsets(np.flatnonzero(calls.accepted)), expected)
        sample = np.arange(0, len(run), 97)
        assert np.array_equal(truth.calls_at(RunView(run), sample).accepted, calls.accepted[sample])
        assert truth.next_start(Pos(0, 0)) == fixture.record_pos[0]
        assert truth.next_start(Pos(fixture.file_size, 0)) is None
    path.write_text("1,2\n1,1\n")
    with pytest.raises(IndexFormatError):
        read_records_file(path)
    path.write_text("not,a,records,file\n")
    with pytest.raises(IndexFormatError):
        read_records_file(path)


def test_span_counts_agree_between_gathering_and_prefix_sums():
    from sparkbam_py.bgzf.run import InflatedRun
    from sparkbam_py.validators.fields import INVALID_OP_CODE, NUL_BYTE

    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    starts = np.sort(rng.integers(0, 40_000, 300))
    lengths = rng.integers(0, 60, 300)
    ops = rng.integers(0, 30, 300)

    def counts(view):
        return (view.count_in_spans(NUL_BYTE, starts, lengths), view.count_invalid_ops(starts, ops),
                view.query_lengths(starts, ops))

    gathered = RunView(InflatedRun(data, [0, 1], [0, len(data)], True))
    summed = RunView(InflatedRun(data, [0, 1], [0, len(data)], True))
    summed._gathered.update({id(NUL_BYTE): len(data), "invalid_ops": len(data), "query_lengths": len(data)})
    by_gathering, by_prefix = counts(gathered), counts(summed)
    assert set(summed._prefix) == {id(NUL_BYTE), "invalid_ops", "query_lengths"} and not gathered._prefix
    for got, want in zip(by_gathering, by_prefix):
        assert np.array_equal(got, want)
    expected_nuls = [data[s:s + n].count(0) for s, n in zip(starts.tolist(), lengths.tolist())]
    assert by_gathering[0].tolist() == expected_nuls
    assert INVALID_OP_CODE[9] and not INVALID_OP_CODE[8]
