"""One Spark task per item, on a classic session or over Spark Connect.

The commands and :func:`map_splits` need "run ``function(item)`` for each of these items on
the executors, give me the results in order".  A classic session does that with an RDD;
Spark Connect has no RDDs, so there the items travel pickled in a one-column DataFrame,
one partition each, and ``mapInArrow`` applies the function and returns the pickled results
(the function itself is shipped by pyspark's cloudpickle, as for any UDF).  Both ways run
the same function on the same items, so the results are the same.
"""
from __future__ import annotations

import pickle
from functools import partial
from typing import Callable, Iterator, List, Sequence

import pyarrow as pa

from ..errors import ConfigError
from .session import is_connect

ITEMS_SCHEMA = "item_index int, item binary"
RESULTS_SCHEMA = "item_index int, result binary"


def run_on_executors(spark, function: Callable, items: Sequence) -> List:
    """``[function(item) for item in items]``, each call in its own Spark task."""
    items = list(items)
    if not items:
        return []
    if not is_connect(spark):
        return spark.sparkContext.parallelize(items, len(items)).map(function).collect()
    rows = [(index, pickle.dumps(item)) for index, item in enumerate(items)]
    frame = spark.createDataFrame(rows, ITEMS_SCHEMA).repartitionByRange(len(items), "item_index")
    results = frame.mapInArrow(partial(_apply_pickled, function=function), RESULTS_SCHEMA).collect()
    ordered = sorted((row.item_index, row.result) for row in results)
    if [index for index, _ in ordered] != list(range(len(items))):
        raise RuntimeError(f"{len(items)} tasks sent, results came back for {len(ordered)}")  # never expected
    return [pickle.loads(result) for _, result in ordered]


def _apply_pickled(batches: Iterator[pa.RecordBatch], function: Callable) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: each pickled item in, its pickled result out, one row each."""
    for batch in batches:
        indexes = batch.column("item_index").to_pylist()
        results = [pickle.dumps(function(pickle.loads(blob))) for blob in batch.column("item").to_pylist()]
        if indexes:
            yield pa.RecordBatch.from_arrays([pa.array(indexes, pa.int32()), pa.array(results, pa.binary())],
                                             names=["item_index", "result"])


def task_identity() -> tuple:
    """``(partition id, task attempt id)`` of the running Spark task (what names its part)."""
    from pyspark import TaskContext

    context = TaskContext.get()
    if context is None:
        raise ConfigError("write_part must run inside a Spark task")
    return context.partitionId(), context.taskAttemptId()
