"""Losing a Python worker or a whole executor mid-job on the standalone cluster (2 workers):
Spark retries the task, and the result is exactly the same as without the loss.

Deterministic, not timed: the task of one chosen partition kills on its first attempt only
(a marker file, created just before the kill, says the kill already happened), either its
own Python worker process or its executor's JVM (the Python worker's grandparent, checked to
be a ``CoarseGrainedExecutorBackend`` running in the standalone worker's folder)."""
from __future__ import annotations

import os
import signal
import sys
from functools import partial
from pathlib import Path

import pytest
from pyspark import cloudpickle

from spark.engines import activate
from sparkbam_py.spark.api import load_reads_and_positions
from sparkbam_py.spark.map_splits import map_splits

pytestmark = [pytest.mark.spark, pytest.mark.slow]
# The task functions below travel by value: executors cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BAM = "short_reads.mixed"
SPLIT_SIZE = 48_000
VICTIM_PARTITION = 1
EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend"


def executor_jvm_pid(worker_dir: str) -> int:
    """The JVM running this Python worker's tasks: python worker -> pyspark daemon -> JVM."""
    daemon = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[1])
    if Path(f"/proc/{daemon}/cmdline").read_bytes().find(b"pyspark.daemon") < 0:
        daemon = os.getpid()  # no daemon in between (worker reuse off): the parent is the JVM
    jvm = int(Path(f"/proc/{daemon}/stat").read_text().rsplit(")", 1)[1].split()[1])
    command = Path(f"/proc/{jvm}/cmdline").read_bytes().decode(errors="replace")
    folder = os.readlink(f"/proc/{jvm}/cwd")
    if EXECUTOR_CLASS not in command or not folder.startswith(worker_dir):
        raise RuntimeError(f"pid {jvm} is not an executor of this cluster: {command[:200]} in {folder}")
    return jvm


def kill_once(marker: Path, what: str, worker_dir: str) -> None:
    """On the victim partition's first attempt only: mark, then kill ``what``."""
    from pyspark import TaskContext

    if TaskContext.get().partitionId() != VICTIM_PARTITION or marker.exists():
        return
    target = executor_jvm_pid(worker_dir) if what == "executor" else os.getpid()
    marker.write_text(f"{what} {target} killed by attempt {TaskContext.get().attemptNumber()}\n")
    os.kill(target, signal.SIGKILL)


def pass_through_after_kill(batches, marker: Path, worker_dir: str):
    kill_once(marker, "python", worker_dir)
    yield from batches


def count_after_kill(batches, marker: Path, worker_dir: str) -> int:
    kill_once(marker, "executor", worker_dir)
    return sum(batch.num_rows for batch in batches)


@pytest.fixture(scope="module")
def cluster():
    return activate("standalone")


def test_a_load_survives_losing_a_python_worker(cluster, bam_fixtures, tmp_path):
    fixture = bam_fixtures[BAM]
    marker = tmp_path / "python-killed"
    frame = load_reads_and_positions(cluster.spark, str(fixture.path), SPLIT_SIZE, ["query_name"])
    killing = frame.mapInArrow(partial(pass_through_after_kill, marker=marker, worker_dir=str(cluster.workdir)),
                               frame.schema)
    rows = sorted((row.file_position, row.query_name) for row in killing.collect())
    assert marker.read_text().startswith("python ")  # the kill really happened
    assert rows == sorted((pos.virtual, name) for pos, name in zip(fixture.record_pos, fixture.query_names))


def test_a_count_survives_losing_an_executor_jvm(cluster, bam_fixtures, tmp_path):
    fixture = bam_fixtures[BAM]
    marker = tmp_path / "executor-killed"
    counts = map_splits(cluster.spark, str(fixture.path),
                        partial(count_after_kill, marker=marker, worker_dir=str(cluster.workdir)),
                        SPLIT_SIZE, records="arrow", columns=["flag"])
    assert marker.read_text().startswith("executor ")
    assert len(counts) > VICTIM_PARTITION and sum(counts) == fixture.n_records
