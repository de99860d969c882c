"""``compute_coverage`` on every Spark engine (local, standalone cluster, Spark Connect):
the same store as the local driver, which equals ``samtools depth``; files are summed; a
task killed after writing its chunks leaves nothing the committed store names."""
from __future__ import annotations

import os
import shutil
import signal
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from pyspark import cloudpickle

from depth_fixtures.data import CONTIGS, samtools_depth, write_coverage_bam
from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.coverage.compute import commit_plan, compute_coverage_local, plan_coverage
from sparkbam_py.coverage.stages import merge_rows, split_off_shared, split_rows
from sparkbam_py.coverage.store_commit import prepare_store
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.spark.coverage import compute_coverage

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not installed")]
SPLIT_SIZE = 150_000  # a few tasks per file: splits still cut through reads
# The task body below travels by value: executors cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def two_bams(tmp_path_factory):
    directory = tmp_path_factory.mktemp("coverage-spark")
    return [write_coverage_bam(directory, "one", n=3000, seed=31),
            write_coverage_bam(directory, "two", n=1500, seed=32, layout="htsjdk")]


def test_spark_coverage_equals_the_local_driver_and_samtools(spark_engine, two_bams, tmp_path):
    paths = [str(path) for path in two_bams]
    compute_coverage(spark_engine.spark, paths, str(tmp_path / "spark"), split_size=SPLIT_SIZE,
                     tracks=("strand", "read_group"), min_mapq=1)
    from sparkbam_py.coverage.blocks import DepthFilter

    compute_coverage_local(paths, str(tmp_path / "local"), split_size=SPLIT_SIZE // 5,
                           groupings=("strand", "read_group"), depth_filter=DepthFilter(min_mapq=1))
    spark_store, local_store = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    build_specific = ("sources", "index", "parts", "stored_bytes")  # file names differ per build
    assert {key: value for key, value in spark_store.manifest.items() if key not in build_specific} == \
        {key: value for key, value in local_store.manifest.items() if key not in build_specific}
    truths = [samtools_depth(path, "-Q", "1") for path in two_bams]
    for name, length in CONTIGS:
        ours = spark_store.values(name, 0, length)
        assert np.array_equal(ours, local_store.values(name, 0, length)), name
        expected = sum(np.pad(truth.get(name, np.zeros(0, int))[:length], (0, length))[:length] for truth in truths)
        assert np.array_equal(ours[:, 0], expected), name


def test_default_split_size_and_no_scratch_left(spark_engine, two_bams, tmp_path):
    """Split size chosen from the session's parallelism (Spark Connect included); every part
    file left is one the manifest names (pieces summed by merge tasks are gone)."""
    compute_coverage(spark_engine.spark, str(two_bams[0]), str(tmp_path / "spark"))
    compute_coverage_local([str(two_bams[0])], str(tmp_path / "local"))
    spark_store, local_store = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    for name, length in CONTIGS:
        assert np.array_equal(spark_store.values(name, 0, length), local_store.values(name, 0, length)), name
    assert sorted(path.name for path in (tmp_path / "spark").iterdir()) == ["index", "manifest.json", "parts"]
    named = set(spark_store.manifest["parts"])
    assert {f"parts/{path.name}" for path in (tmp_path / "spark" / "parts").iterdir()} == named


VICTIM_TASK = 1


def split_rows_killed_once(batches, marker: Path, job, tasks, out):
    """The split task body, except that the victim's first attempt kills its own Python
    worker after writing its part file, before its rows reach the driver."""
    from pyspark import TaskContext

    for batch in batches:
        for index in batch.column(0).to_pylist():
            rows = split_rows(tasks[index], job, out)
            if index == VICTIM_TASK and not marker.exists():
                marker.write_text(f"killed attempt {TaskContext.get().attemptNumber()}\n")
                os.kill(os.getpid(), signal.SIGKILL)
            yield rows


def test_a_task_killed_after_writing_its_chunks_leaves_a_complete_store(two_bams, tmp_path):
    """On the standalone cluster (which retries tasks): the killed attempt's part file is
    written but never named; the retry's is; the committed store equals the local one."""
    from spark.engines import activate
    from sparkbam_py.spark.coverage import _run

    spark = activate("standalone").spark
    plan = plan_coverage([str(two_bams[0])], split_size=SPLIT_SIZE, chunk_length=4096)
    out, marker = str(tmp_path / "spark"), tmp_path / "killed"
    prepare_store(out)
    rows = _run(spark, len(plan.tasks), partial(split_rows_killed_once, marker=marker, job=plan.job,
                                                tasks=plan.tasks, out=out))
    assert marker.read_text().startswith("killed attempt 0")
    written = set((tmp_path / "spark" / "parts").iterdir())
    whole, shared = split_off_shared(rows, plan.job)
    manifest = commit_plan(out, plan, whole + ([merge_rows(shared, plan.job, out)] if shared else []))
    left = set((tmp_path / "spark" / "parts").iterdir())
    assert len(written - left) >= 1 and {f"parts/{path.name}" for path in left} == set(manifest["parts"])
    compute_coverage_local([str(two_bams[0])], str(tmp_path / "local"), chunk_length=4096)
    spark_store, local_store = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    for name, length in CONTIGS:
        assert np.array_equal(spark_store.values(name, 0, length), local_store.values(name, 0, length)), name
