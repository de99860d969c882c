"""``map_regions``: a function over the windows of a tabix file (:mod:`sparkbam_py.text.map_regions`),
run in local worker processes or as Spark tasks, through ``mapInArrow`` so that it runs on
classic sessions and Spark Connect alike (no SparkContext needed).

``fn`` travels by pyspark's cloudpickle either way, so it may be a lambda or a closure.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union

import pyarrow as pa

from ..formats import LINE_FORMATS, format_for
from ..text.map_regions import DEFAULT_WINDOW, Window, plan_windows, run_window

RESULT_SCHEMA = "number int, result binary"


def map_regions(path: str, fn: Callable[[Window, Iterator[Tuple[str, ...]]], Any],
                regions: Union[None, str, Sequence[str]] = None, window=DEFAULT_WINDOW, spark=None,
                workers: Optional[int] = None) -> List[Any]:
    """``[fn(window, rows) for each window]`` of a tabix-indexed file, in file order, in parallel.

    Windows of ``window`` compressed bytes replace "one task per chromosome": a large contig
    spans several windows, small ones share one. Each task opens its own handles.

    Args:
        path: a bgzipped, tabix-indexed text file (local or URL).
        fn: called with each window and an iterator of its rows (``TabixRow``: ``row[i]``,
            ``len(row)``, ``str(row)``, as pysam's ``asTuple`` rows); may be a lambda or
            closure (it travels by cloudpickle).
        regions: ``"chr1:1-1000,chr2"`` or a list (1-based inclusive, as pysam's ``fetch``
            takes them; rows overlapping several regions come once); None for every record.
        window: compressed bytes per call (default ``"16m"``).
        spark: run the windows as Spark tasks of this session (classic or Connect).
        workers: without ``spark``, local ``spawn`` processes (default: the CPU count; 1 runs
            in this process).

    Returns:
        A list of ``fn``'s results, one per window, in file order.
    """
    format_for(path, LINE_FORMATS, "map_regions")
    tasks = plan_windows(path, regions, window)
    if spark is not None:
        return map_windows_on_spark(spark, tasks, fn)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(tasks) <= 1:
        return [run_window(task, fn) for task in tasks]
    from pyspark import cloudpickle

    blobs = [cloudpickle.dumps((task, fn)) for task in tasks]
    with multiprocessing.get_context("spawn").Pool(min(workers, len(tasks))) as pool:
        return [cloudpickle.loads(result) for result in pool.map(run_pickled, blobs, chunksize=1)]


def run_pickled(blob: bytes) -> bytes:
    """One pickled ``(task, fn)`` in, its pickled result out (in a worker process or task)."""
    from pyspark import cloudpickle

    task, fn = cloudpickle.loads(blob)
    return cloudpickle.dumps(run_window(task, fn))


def map_windows_on_spark(spark, tasks, fn: Callable) -> List[Any]:
    """``fn`` over every window task, each in its own Spark partition; results in order."""
    from pyspark import cloudpickle

    if not tasks:
        return []
    rows = [(task.window.number, cloudpickle.dumps((task, fn))) for task in tasks]
    frame = spark.createDataFrame(rows, "number int, task binary").repartition(len(rows), "number")
    results = frame.mapInArrow(_run_batches, RESULT_SCHEMA).collect()
    ordered = sorted((row.number, row.result) for row in results)
    return [cloudpickle.loads(blob) for _, blob in ordered]


def _run_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        numbers = batch.column("number").to_pylist()
        results = [run_pickled(blob) for blob in batch.column("task").to_pylist()]
        yield pa.RecordBatch.from_arrays([pa.array(numbers, pa.int32()), pa.array(results, pa.binary())],
                                         names=["number", "result"])
