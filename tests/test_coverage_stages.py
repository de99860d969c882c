"""How a store is written: split tasks, merge tasks, the driver's commit; what an
interrupted or retried build leaves, and that it is never served as complete."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from depth_fixtures.data import CONTIGS, write_coverage_bam
from sparkbam_py.coverage.chunk_files import absolute_store_url
from sparkbam_py.coverage.compute import commit_plan, compute_coverage_local, plan_coverage
from sparkbam_py.coverage.stages import merge_rows, share_merges, split_off_shared, split_rows
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.coverage.store_commit import IncompleteStoreError, OldStoreLayoutError, prepare_store
from sparkbam_py.errors import MissingInputError
from sparkbam_py.formats.sizing import (MAX_TASKS_PER_SLOT_SPLIT_SIZE, MIN_TASKS_PER_SLOT_SPLIT_SIZE,
                                           tasks_per_slot_split_size)

GROUPINGS = ("strand", "read_group")
CHUNK = 1024  # small chunks: many of them, whole ones and ones split tasks share


@pytest.fixture(scope="module")
def bam(tmp_path_factory):
    return write_coverage_bam(tmp_path_factory.mktemp("stages"))


@pytest.fixture(scope="module")
def plan(bam):
    return plan_coverage([str(bam)], split_size=60_000, groupings=GROUPINGS, chunk_length=CHUNK)


@pytest.fixture(scope="module")
def reference(bam, tmp_path_factory):
    """The same coverage from one split, so no chunk has pieces to merge."""
    out = tmp_path_factory.mktemp("reference") / "s"
    compute_coverage_local([str(bam)], str(out), split_size=1 << 30, groupings=GROUPINGS, chunk_length=CHUNK)
    return CoverageStore(out)


def assert_same_coverage(store: CoverageStore, reference: CoverageStore):
    for name, length in CONTIGS:
        assert np.array_equal(store.values(name, 0, length), reference.values(name, 0, length)), name


def part_files(store_dir):
    return {f"parts/{path.name}" for path in (store_dir / "parts").iterdir()}


def test_split_and_merge_tasks_equal_one_split(plan, reference, tmp_path):
    out = str(tmp_path / "s")
    prepare_store(out)
    rows = [split_rows(task, plan.job, out) for task in plan.tasks]
    whole, shared = split_off_shared(rows, plan.job)
    assert len(plan.tasks) > 3 and whole and len(shared) > 3  # both kinds of chunk occur
    shares = share_merges(shared, 3)
    assert len(shares) == 3 and [group for share in shares for group in share] == shared
    whole += [merge_rows(share, plan.job, out) for share in shares]
    manifest = commit_plan(out, plan, whole)
    store = CoverageStore(out)
    assert_same_coverage(store, reference)
    assert manifest["chunks"] == reference.manifest["chunks"]
    assert part_files(tmp_path / "s") == set(manifest["parts"])  # merged pieces' files are gone


def test_retried_and_killed_attempts_leave_nothing_behind(plan, reference, tmp_path):
    out = str(tmp_path / "s")
    prepare_store(out)
    split_rows(plan.tasks[0], plan.job, out)  # an attempt Spark did not keep: its rows are dropped
    (tmp_path / "s" / "parts" / "0123456789abcdef.bin").write_bytes(b"\x01torn")  # a task killed mid-write
    rows = [split_rows(task, plan.job, out) for task in plan.tasks]
    whole, shared = split_off_shared(rows, plan.job)
    manifest = commit_plan(out, plan, whole + [merge_rows(shared, plan.job, out)])
    assert part_files(tmp_path / "s") == set(manifest["parts"])
    assert_same_coverage(CoverageStore(out), reference)


def test_an_interrupted_build_is_refused_then_rebuilt_cleanly(bam, plan, reference, tmp_path):
    out = tmp_path / "s"
    compute_coverage_local([str(bam)], str(out), split_size=60_000, groupings=GROUPINGS, chunk_length=CHUNK)
    prepare_store(str(out))  # a second build starts, writes its tasks' chunks, and its driver dies
    for task in plan.tasks[:3]:
        split_rows(task, plan.job, str(out))
    with pytest.raises(IncompleteStoreError, match="not finished.*sparkbam coverage"):
        CoverageStore(out)
    manifest = compute_coverage_local([str(bam)], str(out), split_size=60_000, groupings=GROUPINGS,
                                      chunk_length=CHUNK)
    assert part_files(out) == set(manifest["parts"])
    assert [path.name for path in (out / "index").iterdir()] == [manifest["index"].split("/")[1]]
    assert_same_coverage(CoverageStore(out), reference)


def test_an_old_layout_is_refused_with_how_to_rebuild_then_replaced(bam, reference, tmp_path):
    out = tmp_path / "s"
    (out / "contigs").mkdir(parents=True)
    (out / "contigs" / "000000.npy").write_bytes(b"old")
    (out / "manifest.json").write_text(json.dumps({"format": "sparkbam-coverage", "format_version": 1}))
    with pytest.raises(OldStoreLayoutError, match="version 1.*sparkbam coverage"):
        CoverageStore(out)
    compute_coverage_local([str(bam)], str(out), groupings=GROUPINGS, chunk_length=CHUNK)
    assert not (out / "contigs").exists()
    assert_same_coverage(CoverageStore(out), reference)


def test_a_missing_part_file_is_a_clear_error(reference, tmp_path, bam):
    out = tmp_path / "s"
    manifest = compute_coverage_local([str(bam)], str(out), groupings=GROUPINGS, chunk_length=CHUNK)
    (out / next(iter(manifest["parts"]))).unlink()
    with pytest.raises(MissingInputError, match="part file"):
        CoverageStore(out).values(CONTIGS[0][0], 0, CONTIGS[0][1])


def test_a_relative_store_path_is_made_absolute_for_the_executors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert absolute_store_url("cov") == f"{tmp_path}/cov"
    assert absolute_store_url("s3://bucket/cov") == "s3://bucket/cov"


def test_spark_35_rows_come_back_as_the_same_batches(plan, tmp_path):
    """Spark 3.5 has no ``DataFrame.toArrow``: rows are collected and rebuilt as Arrow."""
    from sparkbam_py.spark.coverage import _run

    class Frame:
        def __init__(self, rows):
            self.rows = rows

        def collect(self):
            return self.rows

    class Session:
        def range(self, start, end, step, numPartitions):
            return self

        def mapInArrow(self, body, schema):
            batches = list(body(iter([pa.record_batch([pa.array(range(len(plan.tasks)))], names=["id"])])))
            return Frame([tuple(row.values()) for batch in batches for row in batch.to_pylist()])

    out = str(tmp_path / "s")
    prepare_store(out)
    body = lambda batches: (split_rows(plan.tasks[i], plan.job, out)  # noqa: E731
                            for batch in batches for i in batch.column(0).to_pylist())
    (collected,) = _run(Session(), len(plan.tasks), body)
    direct = pa.Table.from_batches([split_rows(task, plan.job, out) for task in plan.tasks])
    assert collected.schema == direct.schema and collected.num_rows == direct.num_rows
    assert collected.column("sums").to_pylist() == direct.column("sums").to_pylist()


def test_split_size_gives_two_tasks_per_core_within_bounds():
    assert tasks_per_slot_split_size(288 << 20, 2) == 72 << 20
    assert tasks_per_slot_split_size(100 << 30, 2) == MAX_TASKS_PER_SLOT_SPLIT_SIZE
    assert tasks_per_slot_split_size(1000, 8) == MIN_TASKS_PER_SLOT_SPLIT_SIZE


def test_a_split_size_chosen_from_the_inputs_sees_each_file_once(bam):
    seen = []

    def chosen(total_bytes):
        seen.append(total_bytes)
        return 6_000

    planned = plan_coverage([str(bam)], split_size=chosen, groupings=GROUPINGS)
    assert seen == [bam.stat().st_size]
    assert planned.tasks == plan_coverage([str(bam)], split_size=6_000, groupings=GROUPINGS).tasks
