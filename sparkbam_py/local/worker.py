"""What a local worker process runs: one split task (BAM or CRAM) in, its batches out as an Arrow IPC file.

Only picklable, importable things cross the process boundary: the frozen task (``SplitTask``, ``CramTask``) and
``ColumnPlan`` going in, the name of an Arrow IPC stream file coming back.  The file lives in
shared memory (``/dev/shm`` where there is one), so the parent maps it and reads the
batches without a copy: sending the buffer through the pool's pipe instead costs a pickle,
a pipe transfer and an unpickle of every byte (hundreds of MB per split with all columns).
"""
from __future__ import annotations

import os
import tempfile
from typing import Iterator, List, Union

import pyarrow as pa

from ..cram.reader import CramTask
from ..spark.executor import read_cram_batches, read_record_batches
from ..spark.plan import ColumnPlan
from ..splits import SplitTask

Task = Union[SplitTask, CramTask]


def task_batches(task: Task, plan: ColumnPlan) -> Iterator[pa.RecordBatch]:
    """A BAM or CRAM task's records: exactly what a Spark executor yields for it."""
    if isinstance(task, CramTask):
        return read_cram_batches(task, plan)
    return read_record_batches(task, plan)

SHARED_MEMORY_DIR = "/dev/shm"


def scratch_directory() -> str:
    """A private directory for one read's IPC files: in shared memory when available."""
    parent = SHARED_MEMORY_DIR if os.path.isdir(SHARED_MEMORY_DIR) and os.access(SHARED_MEMORY_DIR, os.W_OK) else None
    return tempfile.mkdtemp(prefix="sparkbam-", dir=parent)


def write_task_ipc(task: Task, plan: ColumnPlan, out_path: str) -> str:
    """Write the task's records (exactly the executor's batches) to ``out_path`` as an Arrow IPC
    stream; returns ``out_path``."""
    with pa.OSFile(out_path, "wb") as sink, pa.ipc.new_stream(sink, plan.arrow_schema) as writer:
        for batch in task_batches(task, plan):
            writer.write_batch(batch)
    return out_path


def take_ipc_batches(path: str) -> List[pa.RecordBatch]:
    """The batches of the IPC stream file at ``path``, memory-mapped (zero-copy); the file is
    unlinked at once (the mapping keeps its pages alive until the batches are freed)."""
    try:
        with pa.memory_map(path) as source:
            return list(pa.ipc.open_stream(source))
    finally:
        os.unlink(path)
