"""The eager checker and the split-start search against independent truth: the generated
fixtures (the builder's record positions) and the real-world corpus (walked chains)."""
from __future__ import annotations

import bisect
import warnings
from typing import Optional

import numpy as np
import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.config import CheckerConfig
from sparkbam_py.errors import RecordStartNotFoundError, SparkBamError
from sparkbam_py.pos import Pos
from sparkbam_py.validators.eager import EagerChecker
from sparkbam_py.validators.fields import RunView
from sparkbam_py.validators.indexed import IndexedChecker, walk_record_positions
from sparkbam_py.validators.records import References
from sparkbam_py.validators.search import find_record_start


def whole_file(bam):
    return bam.reader.read_run(0, bam.size * 64 + (1 << 20))


def accepted_virtuals(bam) -> np.ndarray:
    run = whole_file(bam)
    calls = EagerChecker(References.of(bam.header)).calls_range(RunView(run), 0, len(run))
    assert not calls.need_more.any()  # the run reaches the end of the file
    return run.virtual_offsets(np.flatnonzero(calls.accepted))


def readable(bam_fixtures):
    return [f for f in bam_fixtures.values() if f.readable]


def test_eager_accepts_exactly_the_records_of_every_fixture(bam_fixtures):
    for fixture in readable(bam_fixtures):
        with open_bam(fixture.path) as bam:
            got = accepted_virtuals(bam)
        expected = np.array([pos.virtual for pos in fixture.record_pos], dtype=np.int64)
        assert np.array_equal(got, expected), fixture.name


def test_eager_never_accepts_a_non_record_in_truncated_fixtures(bam_fixtures):
    """Data that stops mid-record (the intact blocks, then the end): no false start."""
    checked = 0
    for fixture in bam_fixtures.values():
        if fixture.readable:
            continue
        try:
            bam = open_bam(fixture.path)
        except SparkBamError:
            continue  # the header's read-ahead reaches the cut block: nothing to search
        with bam:
            blocks = []
            with pytest.raises(SparkBamError):
                for block in bam.reader.iter_blocks(0):
                    blocks.append(block)
            run = InflatedRun.from_blocks(blocks, blocks[-1].end, True)
            calls = EagerChecker(References.of(bam.header)).calls_range(RunView(run), 0, len(run))
        got = set(run.virtual_offsets(np.flatnonzero(calls.accepted)).tolist())
        # A record is accepted when it and the 9 after it lie whole before the cut, or when
        # its chain ends exactly at the cut; the others run into a partial record there.
        intact = fixture.n_intact_records
        clean_cut = intact and fixture.record_end(intact - 1) == len(run)
        chained = fixture.record_pos[: intact if clean_cut else max(intact - 9, 0)]
        assert got == {pos.virtual for pos in chained}, fixture.name
        checked += 1
    assert checked


class Inflated:
    """Where positions are in a fixture's inflated stream. Beside empty blocks one byte has
    two names (htslib names a record after a block's data by the next block, even an empty
    one; a search from the following block names it by that block), so tests compare bytes."""

    def __init__(self, fixture):
        self.data_starts = dict(zip(fixture.block_starts, np.cumsum([0] + fixture.block_usizes[:-1]).tolist()))
        self.records = fixture.record_offsets

    def offset(self, pos: Pos) -> int:
        return self.data_starts[pos.block_pos] + pos.offset

    def first_record(self, start: int, stop: Optional[int] = None) -> Optional[int]:
        k = bisect.bisect_left(self.records, start)
        found = self.records[k] if k < len(self.records) else None
        return None if found is None or (stop is not None and found >= stop) else found


# Searches per fixture: every block start of most; an even spread over the tiny-block
# layouts' thousands (each of their searches reads ten long records' worth of tiny blocks).
SEARCHES_PER_FIXTURE = 300


def some_blocks(fixture):
    blocks = fixture.block_starts
    step = max(1, len(blocks) // SEARCHES_PER_FIXTURE)
    return sorted(set(blocks[::step]) | {blocks[-1]})


def test_search_from_block_starts_finds_the_first_record(bam_fixtures):
    for fixture in readable(bam_fixtures):
        where = Inflated(fixture)
        with open_bam(fixture.path) as bam:
            for block in some_blocks(fixture):
                if Pos(block, 0) < fixture.header_end:
                    continue
                found = find_record_start(bam.reader, block, bam.header)
                got = None if found is None else where.offset(found)
                assert got == where.first_record(where.offset(Pos(block, 0))), (fixture.name, block)
                assert found is None or found.block_pos >= block


def test_search_stops_at_stop(bam_fixtures):
    fixture = bam_fixtures["short_reads.tiny_blocks"]
    where = Inflated(fixture)
    blocks = fixture.block_starts
    with open_bam(fixture.path) as bam:
        for block, following in zip(blocks, blocks[1:]):
            if Pos(block, 0) < fixture.header_end:
                continue
            found = find_record_start(bam.reader, block, bam.header, stop=Pos(following, 0))
            expected = where.first_record(where.offset(Pos(block, 0)), where.offset(Pos(following, 0)))
            assert (None if found is None else where.offset(found)) == expected, block


def test_search_past_the_last_record_is_empty(bam_fixtures):
    fixture = bam_fixtures["header_only.block_aligned"]
    with open_bam(fixture.path) as bam:
        assert find_record_start(bam.reader, 0, bam.header) is None


def test_search_gives_up_after_max_read_size(bam_fixtures):
    fixture = bam_fixtures["long_reads.block_aligned"]
    with open_bam(fixture.path) as bam:
        with pytest.raises(RecordStartNotFoundError) as raised:
            find_record_start(bam.reader, 0, bam.header, CheckerConfig(max_read_size=10))
    assert str(fixture.path) in str(raised.value)


def corpus_bams(corpus_dir):
    for path in sorted(corpus_dir.rglob("*.bam")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                bam = open_bam(str(path))
                truth = walk_record_positions(bam)
            except SparkBamError:
                continue  # corrupt, truncated or not BAM: the harness reports those
        yield path, bam, truth


@pytest.mark.corpus
@pytest.mark.slow
def test_eager_makes_no_false_call_on_any_corpus_position(corpus_dir):
    wrong = []
    checked = 0
    for path, bam, truth in corpus_bams(corpus_dir):
        with bam:
            got = accepted_virtuals(bam)
        checked += 1
        if not np.array_equal(got, truth):
            wrong.append(f"{path.name}: {len(np.setdiff1d(got, truth))} FP, {len(np.setdiff1d(truth, got))} FN")
    assert checked > 300
    assert not wrong, wrong


@pytest.mark.corpus
def test_indexed_truth_from_records_files_matches_the_walk(corpus_dir):
    from sparkbam_py.validators.indexed import read_records_file

    compared = 0
    for records in sorted(corpus_dir.rglob("*.bam.records")):
        bam_path = records.with_suffix("")
        with open_bam(str(bam_path)) as bam:
            assert np.array_equal(read_records_file(records), walk_record_positions(bam)), records.name
            run = whole_file(bam)
            truth = IndexedChecker(read_records_file(records))
            calls = truth.calls_range(RunView(run), 0, len(run)).accepted
            assert np.array_equal(run.virtual_offsets(np.flatnonzero(calls)), truth.virtual)
        compared += 1
    assert compared >= 4
