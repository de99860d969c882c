"""``read_table`` / ``iter_batches``: a BAM's (or a CRAM's) reads as Arrow without Spark.

The driver part is ``spark.plan.plan_reads`` (files listed, headers read, byte ranges cut,
or exact splits from a ``.sbi``; for CRAM ``cram.plan``) and each split runs
``spark.executor.read_record_batches`` (``read_cram_batches``), the very function Spark executors run: the same record-start search, decode, and boundary
verification, so the answers are the DataFrame's.  With ``workers > 1`` the splits run in
that many ``spawn``-ed processes, at most ``2 * workers`` splits in flight, and come back as
Arrow IPC files in shared memory, mapped without a copy, in split order.  As with any
``spawn`` pool, a script that uses ``workers > 1`` must guard its entry point with
``if __name__ == "__main__":``.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, List, Optional, Sequence

import pyarrow as pa

from ..cram.plan import CramReadOptions, plan_cram_files
from ..errors import ConfigError, WorkerLostError
from ..spark.cram_api import names_cram
from ..spark.paths import PathsArgument
from ..spark.plan import ColumnPlan, ReadOptions, plan_reads
from .worker import Task, scratch_directory, take_ipc_batches, task_batches, write_task_ipc

# Splits queued per worker beyond the one it is reading: keeps every worker busy while the
# caller consumes results in order, and bounds memory to a few splits per worker.
SPLITS_AHEAD_PER_WORKER = 2


def iter_batches(path: PathsArgument, columns: Optional[Sequence[str]] = None, split_size=None, workers: int = 1, *,
                 reference: Optional[str] = None, reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None,
                 verify_splits: bool = True, use_splitting_index: bool = True,
                 verify_checksums: bool = True) -> Iterator[pa.RecordBatch]:
    """The reads of ``path`` as ``pyarrow.RecordBatch`` es, in file and split order, streamed.

    ``path``: a file, glob, directory or list; local or a URL (as ``spark.read.format("bam")``).
    A CRAM file (or a list of them) is read as ``format("cram")`` reads it: ``reference``
    names its FASTA (local or a URL), ``use_splitting_index`` its ``.crai``.
    ``columns``: pysam names (default: all of them), plus ``file_position`` (each record's
    virtual offset) and ``file_path`` if wanted; the batches have exactly the DataFrame's
    Arrow schema.  ``split_size`` (default 32 MiB, ``"64m"`` accepted) cuts the files;
    ``workers`` > 1 reads splits in that many local processes.  The other options are the
    data source's (``readsToCheck``...); ``verify_checksums=False`` skips the BGZF CRC32 checks.

    Files are listed and headers read now; a bad split raises the library's typed
    ``SparkBamError`` when the iteration reaches it.
    """
    options = ReadOptions.of(split_size, reads_to_check, max_read_size, bgzf_blocks_to_check, verify_splits,
                             use_splitting_index, verify_checksums)
    return _batches(path, ColumnPlan.of(columns), options, workers, reference)


def read_table(path: PathsArgument, columns: Optional[Sequence[str]] = None, split_size=None, workers: int = 1,
               **options) -> pa.Table:
    """The reads of ``path`` as one ``pyarrow.Table`` (arguments as :func:`iter_batches`)."""
    plan = ColumnPlan.of(columns)
    batches = list(iter_batches(path, columns, split_size, workers, **options))
    return pa.Table.from_batches(batches, schema=plan.arrow_schema)


def _batches(path: PathsArgument, plan: ColumnPlan, options: ReadOptions, workers: int,
             reference: Optional[str]) -> Iterator[pa.RecordBatch]:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number of at least 1, got {workers!r}")
    tasks = _plan(path, options, reference)
    if workers == 1 or len(tasks) <= 1:
        return _iter_here(tasks, plan)
    return _iter_in_processes(tasks, plan, min(workers, len(tasks)))


def _plan(path: PathsArgument, options: ReadOptions, reference: Optional[str]) -> List[Task]:
    """BAM tasks, or CRAM tasks when ``path`` names CRAM (judged by the first file's magic)."""
    if names_cram(path):
        files = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        cram = CramReadOptions(options.split_size, reference=reference, verify=options.verify,
                               use_index=options.use_splitting_index)
        return plan_cram_files([os.fspath(file) for file in files], cram)
    if reference is not None:
        raise ConfigError("reference= is for CRAM input; this path names BAM", os.fspath(path)
                          if isinstance(path, (str, os.PathLike)) else None)
    return plan_reads(path, options)


def _iter_here(tasks: List[Task], plan: ColumnPlan) -> Iterator[pa.RecordBatch]:
    for task in tasks:
        yield from task_batches(task, plan)


def _iter_in_processes(tasks: List[Task], plan: ColumnPlan, workers: int) -> Iterator[pa.RecordBatch]:
    scratch = scratch_directory()
    pending = iter(enumerate(tasks))
    in_flight: deque = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def submit_next() -> None:
        item = next(pending, None)
        if item is not None:
            index, task = item
            in_flight.append((task, pool.submit(write_task_ipc, task, plan, os.path.join(scratch, f"{index}.arrow"))))

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

