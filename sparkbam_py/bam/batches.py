"""One BAM split task in, Arrow out: what every driver runs for a split (Spark executors,
local worker processes, this process).  Every handle is opened here, inside the task."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import pyarrow as pa

from .columns import ColumnPlan
from .decode import decode_records
from .ragged import strings_array
from .splits import SplitReader, SplitTask


def read_record_batches(task: SplitTask, plan: ColumnPlan,
                        chunk_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
    """The task's records as Arrow batches with exactly ``plan.arrow_schema``, one batch per
    walk chunk of at most ``chunk_bytes`` inflated bytes (the walk's default when None)."""
    with SplitReader(task) as split:
        names = strings_array(split.header.reference_names)  # once per split, not per chunk
        for chunk in split.iter_chunks(chunk_bytes):
            positions = chunk.virtual_offsets() if plan.with_file_position else None
            decoded = decode_records(chunk.run.data, chunk.offsets, names, plan.record_columns, positions,
                                     path=task.path, typed_tags=plan.tag_spec)
            yield plan.arrange(decoded, task.path, (chunk.run.data, chunk.offsets) if plan.with_record else None)


def split_row(task: SplitTask, count: bool) -> Tuple[str, int, int, Optional[int], Optional[int]]:
    """``(path, range_start, range_end, first record's virtual offset, records)`` of a task.

    ``records`` (a chain walk, with the boundary check) only when ``count``; else None.
    """
    with SplitReader(task) as split:
        first = split.start
        records = split.count() if count else None
    return task.path, task.range.start, task.range.end, None if first is None else first.virtual, records
