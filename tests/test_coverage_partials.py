"""Partial depths handed over through files beside the store: what the driver reads back and
sums equals the tasks' events merged in memory, whatever order the index rows come in; a
missing file is a clear error; the scratch folder goes away; the Spark split size balances."""
from __future__ import annotations

import random

import numpy as np
import pytest

from depth_fixtures.data import CONTIGS, write_coverage_bam
from sparkbam_py.coverage.compute import compute_coverage_local, plan_coverage, write_store
from sparkbam_py.coverage.partial_files import (PARTIALS_FOLDER, new_partials_folder, read_merged,
                                                remove_folder, write_partial)
from sparkbam_py.coverage.partials import PartialDepth
from sparkbam_py.coverage.split_depth import compute_split_depth
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.errors import ConfigError
from sparkbam_py.formats.sizing import (MAX_TASKS_PER_SLOT_SPLIT_SIZE, MIN_TASKS_PER_SLOT_SPLIT_SIZE,
                                           tasks_per_slot_split_size)

GROUPINGS = ("strand", "read_group")


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    bam = write_coverage_bam(tmp_path_factory.mktemp("partials"))
    return plan_coverage([str(bam)], split_size=6_000, groupings=GROUPINGS)


def written_pieces(plan, store):
    folder = new_partials_folder(str(store))
    pieces = [piece for task in plan.tasks for piece in write_partial(compute_split_depth(task, plan.job), folder)]
    return folder, pieces


def test_files_read_back_equal_the_merged_events(plan, tmp_path):
    folder, pieces = written_pieces(plan, tmp_path / "store")
    assert len({piece[2] for piece in pieces}) > 1  # several tasks, several files
    random.Random(3).shuffle(pieces)
    expected = PartialDepth(plan.job.chunk_length, plan.job.n_tracks)
    for task in plan.tasks:
        for key, events in compute_split_depth(task, plan.job).merged():
            expected.add(key, events)
    read = list(read_merged(folder, pieces))
    assert [(contig, chunk) for contig, chunk, _ in read] == [key for key, _ in expected.merged()]
    for (_, _, events), (_, truth) in zip(read, expected.merged()):
        assert np.array_equal(np.sort(events.starts), np.sort(truth.starts))
        assert np.array_equal(np.sort(events.ends), np.sort(truth.ends))
    remove_folder(folder)
    assert not (tmp_path / "store" / PARTIALS_FOLDER).exists()


def test_store_from_files_equals_the_local_driver(plan, tmp_path):
    folder, pieces = written_pieces(plan, tmp_path / "files")
    write_store(str(tmp_path / "files"), plan, read_merged(folder, pieces))
    remove_folder(folder)
    compute_coverage_local(plan.metadata["sources"], str(tmp_path / "local"), split_size=6_000, groupings=GROUPINGS)
    files, local = CoverageStore(tmp_path / "files"), CoverageStore(tmp_path / "local")
    assert files.manifest == local.manifest
    for name, length in CONTIGS:
        assert np.array_equal(files.values(name, 0, length), local.values(name, 0, length)), name
    assert sorted(path.name for path in (tmp_path / "files").iterdir()) == ["contigs", "manifest.json"]


def test_a_missing_partial_file_says_the_store_must_be_shared(plan, tmp_path):
    folder, pieces = written_pieces(plan, tmp_path / "store")
    (tmp_path / "store" / PARTIALS_FOLDER / folder.rsplit("/", 1)[1] / pieces[0][2]).unlink()
    with pytest.raises(ConfigError, match="reachable by the executors"):
        list(read_merged(folder, pieces))


def test_a_relative_store_path_is_made_absolute_for_the_executors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = new_partials_folder("cov")
    assert folder.startswith(f"{tmp_path}/cov/{PARTIALS_FOLDER}/")
    assert new_partials_folder("s3://bucket/cov").startswith(f"s3://bucket/cov/{PARTIALS_FOLDER}/")


def test_split_size_gives_two_tasks_per_core_within_bounds():
    assert tasks_per_slot_split_size(288 << 20, 2) == 72 << 20
    assert tasks_per_slot_split_size(100 << 30, 2) == MAX_TASKS_PER_SLOT_SPLIT_SIZE
    assert tasks_per_slot_split_size(1000, 8) == MIN_TASKS_PER_SLOT_SPLIT_SIZE


def test_a_split_size_chosen_from_the_inputs_sees_each_file_once(tmp_path):
    bam = write_coverage_bam(tmp_path)
    seen = []

    def chosen(total_bytes):
        seen.append(total_bytes)
        return 6_000

    planned = plan_coverage([str(bam)], split_size=chosen, groupings=GROUPINGS)
    assert seen == [bam.stat().st_size]
    assert planned.tasks == plan_coverage([str(bam)], split_size=6_000, groupings=GROUPINGS).tasks
