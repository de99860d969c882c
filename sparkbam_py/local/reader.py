"""``read_table`` / ``iter_batches``: a file's records as Arrow without Spark, any format.

The format is found by the registry (:mod:`sparkbam_py.formats`), and its read plans the
tasks here (files listed, headers read, byte ranges cut, or exact splits from an index) and
reads each task with the very code Spark executors run: the same start search, decode and
boundary verification, so the answers are the DataFrame's.  With ``workers > 1`` the tasks run
in that many ``spawn``-ed processes, at most ``2 * workers`` in flight, and come back as Arrow
IPC files in shared memory, mapped without a copy, in task order.  As with any ``spawn``
pool, a script that uses ``workers > 1`` must guard its entry point with
``if __name__ == "__main__":``.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterator, List, Optional, Sequence

import pyarrow as pa

from ..errors import ConfigError, WorkerLostError
from ..formats import FORMAT_NAMES, FormatRead, open_read
from ..formats.paths import PathsArgument
from .collector import collector_paused
from .worker import scratch_directory, take_ipc_batches, write_task_ipc

# Splits queued per worker beyond the one it is reading: keeps every worker busy while the
# caller consumes results in order, and bounds memory to a few splits per worker.
SPLITS_AHEAD_PER_WORKER = 2


def iter_batches(path: PathsArgument, columns: Optional[Sequence[str]] = None, split_size=None, workers: int = 1, *,
                 reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None, verify_splits: bool = True,
                 use_splitting_index: bool = True, verify_checksums: bool = True,
                 **format_options) -> Iterator[pa.RecordBatch]:
    """The records of some files as Arrow record batches, in file and split order, streamed.

    The same reader as the Spark executors (record-start search, decode, boundary checks),
    without Spark. Files are listed and headers read now; a bad split raises the library's
    typed ``SparkBamError`` when the iteration reaches it.

    Args:
        path: a file, glob, directory or list; local or a URL. Its format is found by its
            bytes: BAM, CRAM, VCF, BED, GFF, tabix-indexed or plain bgzipped text.
        columns: the format's column names (default: all of them; for BAM and CRAM pysam's
            names, plus ``file_position`` (BAM: each record's virtual offset) and ``file_path``).
        split_size: bytes per split (default 32 MiB, ``"64m"`` accepted).
        workers: > 1 reads splits in that many local ``spawn`` processes (guard the script
            with ``if __name__ == "__main__":``).
        reads_to_check: BAM's checker option (as :func:`load_reads`).
        max_read_size: BAM's checker option.
        bgzf_blocks_to_check: BAM's checker option.
        verify_splits: check each split's boundary with the next.
        use_splitting_index: use a current ``.sbi`` beside a BAM for exact splits.
        verify_checksums: check every BGZF block's CRC32.
        **format_options: another format's data source options, in snake case: CRAM's
            (``reference``...), the text formats' (``include_sample_ids``, ``regions``...).

    Yields:
        ``pyarrow.RecordBatch`` objects with exactly the DataFrame's Arrow schema.
    """
    keywords = dict(reads_to_check=reads_to_check, max_read_size=max_read_size,
                    bgzf_blocks_to_check=bgzf_blocks_to_check, verify_splits=verify_splits,
                    use_splitting_index=use_splitting_index, verify_checksums=verify_checksums)
    return _batches(_open(path, columns, split_size, {**keywords, **format_options}), workers)


def read_table(path: PathsArgument, columns: Optional[Sequence[str]] = None, split_size=None, workers: int = 1,
               **options) -> pa.Table:
    """The records of some files as one Arrow table, without Spark.

    Args:
        path: a file, glob, directory or list; local or URL; any format the library reads.
        columns: the format's column names (default all).
        split_size: bytes per split (default 32 MiB).
        workers: > 1 reads splits in that many local processes.
        **options: :func:`iter_batches`' keywords.

    Returns:
        A ``pyarrow.Table`` with exactly ``spark.read.format(<format>)``'s schema and rows.
    """
    read = _open(path, columns, split_size, options)
    with collector_paused():
        return pa.Table.from_batches(list(_batches(read, workers)), schema=read.arrow_schema)


def _open(path: PathsArgument, columns, split_size, keywords: dict) -> FormatRead:
    return open_read(path, FORMAT_NAMES, "read_table", columns, split_size=split_size, **keywords)[1]


def _batches(read: FormatRead, workers: int) -> Iterator[pa.RecordBatch]:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number of at least 1, got {workers!r}")
    tasks = read.tasks()
    if workers == 1 or len(tasks) <= 1:
        return _iter_here(read, tasks)
    return _iter_in_processes(read, tasks, min(workers, len(tasks)))


def _iter_here(read: FormatRead, tasks: List[Any]) -> Iterator[pa.RecordBatch]:
    for task in tasks:
        yield from read.read(task)


def _iter_in_processes(read: FormatRead, tasks: List[Any], workers: int) -> Iterator[pa.RecordBatch]:
    scratch = scratch_directory()
    pending = iter(enumerate(tasks))
    in_flight: deque = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def submit_next() -> None:
        item = next(pending, None)
        if item is not None:
            index, task = item
            in_flight.append((task, pool.submit(write_task_ipc, read, task, os.path.join(scratch, f"{index}.arrow"))))

    try:
        for _ in range(workers * (1 + SPLITS_AHEAD_PER_WORKER)):
            submit_next()
        while in_flight:
            path = in_flight[0][1].result()
            in_flight.popleft()
            submit_next()
            yield from take_ipc_batches(path)
    except BrokenProcessPool as error:  # a worker died: its split's records are missing
        lost = in_flight[0][0].path if in_flight else None
        raise WorkerLostError(f"a worker process died while reading a split ({error})", lost) from error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)

