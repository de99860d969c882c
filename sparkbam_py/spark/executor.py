"""The ``mapInArrow`` body of the Spark 3.5 loaders: pickled split tasks in, their records out.

The tasks are any format's (:mod:`sparkbam_py.formats`); ``read`` is the format's read that
planned them, shipped in the closure, and reads each task as a data source partition would.
"""
from __future__ import annotations

import pickle
from typing import Iterator

import pyarrow as pa

from ..formats import FormatRead
from .source_names import SPARK_BATCH_BYTES


def read_task_column(batches: Iterator[pa.RecordBatch], read: FormatRead) -> Iterator[pa.RecordBatch]:
    """The records of every pickled task in the ``task`` column."""
    for batch in batches:
        for blob in batch.column("task").to_pylist():
            yield from read.read(pickle.loads(blob), SPARK_BATCH_BYTES)
