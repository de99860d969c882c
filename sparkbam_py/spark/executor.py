"""The ``mapInArrow`` way of running a format's tasks, for sessions without Python data
sources (Spark 3.5): the driver plans the tasks, pickles them into a DataFrame of one task
per partition, and each partition reads (or converts) its task.

The tasks are any format's (:mod:`sparkbam_py.formats`); ``read`` is the format's read that
planned them, shipped in the closure, and reads each task as a data source partition would
(``convert`` writes each task's Parquet files the same way: :mod:`.convert`).
"""
from __future__ import annotations

import pickle
from typing import Iterator, Sequence

import pyarrow as pa

from ..formats import FormatRead
from .source_names import SPARK_BATCH_BYTES

TASKS_SCHEMA = "task_index int, task binary"


def tasks_frame(spark, tasks: Sequence):
    """A DataFrame of the pickled ``tasks``, one per partition where the range partitioner
    manages it, in task order."""
    rows = [(index, pickle.dumps(task)) for index, task in enumerate(tasks)]
    return (spark.createDataFrame(rows, TASKS_SCHEMA)
            .repartitionByRange(max(len(tasks), 1), "task_index").sortWithinPartitions("task_index"))


def read_task_column(batches: Iterator[pa.RecordBatch], read: FormatRead) -> Iterator[pa.RecordBatch]:
    """The records of every pickled task in the ``task`` column."""
    for batch in batches:
        for blob in batch.column("task").to_pylist():
            yield from read.read(pickle.loads(blob), SPARK_BATCH_BYTES)
