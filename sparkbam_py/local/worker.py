"""What a local worker process runs: one split task in, its batches out as an Arrow IPC file.

Only picklable, importable things cross the process boundary: the format's read and one of
its tasks going in, the name of an Arrow IPC stream file coming back.  The file lives in
shared memory (``/dev/shm`` where there is one), so the parent maps it and reads the
batches without a copy: sending the buffer through the pool's pipe instead costs a pickle,
a pipe transfer and an unpickle of every byte (hundreds of MB per split with all columns).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, List

import pyarrow as pa

from ..formats import FormatRead

SHARED_MEMORY_DIR = "/dev/shm"


def scratch_directory() -> str:
    """A private directory for one read's IPC files: in shared memory when available."""
    parent = SHARED_MEMORY_DIR if os.path.isdir(SHARED_MEMORY_DIR) and os.access(SHARED_MEMORY_DIR, os.W_OK) else None
    return tempfile.mkdtemp(prefix="sparkbam-", dir=parent)


def write_task_ipc(read: FormatRead, task: Any, out_path: str) -> str:
    """Write the task's records (exactly what an executor reads) to ``out_path`` as an Arrow
    IPC stream; returns ``out_path``."""
    with pa.OSFile(out_path, "wb") as sink, pa.ipc.new_stream(sink, read.arrow_schema) as writer:
        for batch in read.read(task):
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
