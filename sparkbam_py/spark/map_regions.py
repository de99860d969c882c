"""``map_regions`` on Spark: one task per window, through ``mapInArrow`` so that it runs on
classic sessions and Spark Connect alike (no SparkContext needed)."""
from __future__ import annotations

from typing import Any, Callable, Iterator, List

import pyarrow as pa

RESULT_SCHEMA = "number int, result binary"


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
    from ..text.map_regions import _run_pickled

    for batch in batches:
        numbers = batch.column("number").to_pylist()
        results = [_run_pickled(blob) for blob in batch.column("task").to_pylist()]
        yield pa.RecordBatch.from_arrays([pa.array(numbers, pa.int32()), pa.array(results, pa.binary())],
                                         names=["number", "result"])
