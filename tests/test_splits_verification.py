"""Self-verifying boundaries: a checker that is wrong at one boundary raises, never misleads.

Each case first shows, with verification off, that the wrong answer really loses, invents
or duplicates reads; then that with verification on (the default) the read stops with a
SplitVerificationError naming both positions.
"""
from __future__ import annotations

import pickle

import pytest

from spark.decoy import write_decoy_bam
from sparkbam_py.bam import splits
from sparkbam_py.errors import SparkBamError, SplitVerificationError
from sparkbam_py.pos import Pos
from sparkbam_py.bam.pysam_split import apply_to_split
from sparkbam_py.bam.splits import SplitReader, plan_file

SPLIT_SIZE = 60_000
FIXTURE = "short_reads.htsjdk"


def read_all(path, split_size, verify=True):
    """Every split's record positions, in order (executor code, run here)."""
    _, tasks = plan_file(str(path), split_size, verify=verify)
    positions = []
    for task in tasks:
        with SplitReader(task) as split:
            for chunk in split.iter_chunks():
                positions.extend(Pos.from_virtual(v) for v in chunk.virtual_offsets().tolist())
    return positions


def force_checker(monkeypatch, wrong_block: int, answer) -> None:
    """Make the record-start search answer ``answer(true start)`` when it starts at ``wrong_block``."""
    real = splits.find_record_start

    def checker(reader, block_start, header, config, stop=None):
        found = real(reader, block_start, header, config, stop=stop)
        return answer(found) if block_start == wrong_block else found

    monkeypatch.setattr(splits, "find_record_start", checker)


@pytest.fixture()
def boundary(bam_fixtures):
    """A fixture, the range whose start we corrupt, that range's first block and records."""
    fixture = bam_fixtures[FIXTURE]
    _, tasks = plan_file(str(fixture.path), SPLIT_SIZE)
    task = tasks[2]
    with SplitReader(task) as split:
        block = split.reader.find_block_start(task.range.start)
        first = split.start
    following = fixture.record_pos[fixture.record_pos.index(first) + 1]
    return fixture, block, first, following


def test_a_start_that_skips_a_record_raises_instead_of_losing_it(boundary, monkeypatch):
    fixture, block, first, following = boundary
    force_checker(monkeypatch, block, lambda found: following)
    unchecked = read_all(fixture.path, SPLIT_SIZE, verify=False)
    assert first not in unchecked and len(unchecked) == fixture.n_records - 1
    with pytest.raises(SplitVerificationError) as error:
        read_all(fixture.path, SPLIT_SIZE)
    message = str(error.value)
    assert str(first) in message and str(following) in message and "lost" in message


def test_a_range_that_misses_all_its_records_raises(boundary, monkeypatch):
    fixture, block, first, _ = boundary
    force_checker(monkeypatch, block, lambda found: None)
    assert len(read_all(fixture.path, SPLIT_SIZE, verify=False)) < fixture.n_records
    with pytest.raises(SplitVerificationError, match="finds no record start") as error:
        read_all(fixture.path, SPLIT_SIZE)
    assert error.value.pos == first


def test_a_start_inside_a_record_raises_before_its_garbage_is_trusted(boundary, monkeypatch):
    fixture, block, first, _ = boundary
    inside = Pos(first.block_pos, first.offset - 1) if first.offset else Pos(block, 0)
    force_checker(monkeypatch, block, lambda found: inside)
    _, tasks = plan_file(str(fixture.path), SPLIT_SIZE)
    with SplitReader(tasks[1]) as previous:  # the range whose walk ends where the wrong one starts
        with pytest.raises(SplitVerificationError, match="invented or duplicated") as error:
            previous.count()
    assert str(first) in str(error.value) and str(inside) in str(error.value)


def test_a_record_hidden_in_a_tag_fools_the_checker_but_not_the_boundary_check(tmp_path):
    """A real file, the real checker: the hidden record IS well-formed, so the search takes it."""
    decoy = write_decoy_bam(tmp_path)
    split_size = decoy.hidden_block  # the second range starts in the holder's last block
    unchecked = read_all(decoy.path, split_size, verify=False)
    assert len(unchecked) == decoy.n_records + 1  # one invented read
    with pytest.raises(SplitVerificationError) as error:
        read_all(decoy.path, split_size)
    assert error.value.pos == decoy.following and str(decoy.following) in str(error.value)


def test_the_pysam_path_checks_the_same_boundary(tmp_path):
    decoy = write_decoy_bam(tmp_path)
    _, tasks = plan_file(str(decoy.path), decoy.hidden_block)
    with pytest.raises(SplitVerificationError):
        apply_to_split(tasks[0], lambda segments: sum(1 for _ in segments))
    # Stopping early does not skip the check: the rest of the split is read for it.
    with pytest.raises(SplitVerificationError):
        apply_to_split(tasks[0], lambda segments: next(segments).query_name)


def test_the_verification_error_travels_by_pickle():
    error = SplitVerificationError("chain lands on 5:0, next search finds 5:9", "x.bam", Pos(5, 0))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SplitVerificationError and str(copy) == str(error) and copy.pos == Pos(5, 0)
    assert isinstance(copy, SparkBamError)
