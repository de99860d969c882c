"""Write one task's record batches as Parquet files (pyarrow), grouped by partition value.

Batches are buffered per partition value and written one row group per
``row_group_bytes`` of Arrow data (Spark's reader splits files by row group); dictionaries
and statistics are where they pay (``parquet_layout``).  Each file is reported as a
:class:`WrittenFile` that the driver commits.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .parquet_layout import writer_options
from .stats import FileStats
from .target import OutputTarget, join


@dataclass(frozen=True)
class WrittenFile:
    """A staged data file: path relative to the staging folder, where it goes, what it holds."""

    staged: str
    final: str
    partition_value: Optional[str]
    rows: int
    size: int
    stats: str  # Delta's per-file statistics JSON


@dataclass
class _OpenFile:
    """One partition value's file being written, and the batches waiting for its next row group."""

    name: str
    writer: Optional[pq.ParquetWriter] = None
    sink: object = None
    pending: List[pa.RecordBatch] = field(default_factory=list)
    pending_bytes: int = 0
    stats: FileStats = None


class TaskFileWriter:
    """Writes one Spark task's files into the job's staging folder; ``close()`` lists them."""

    def __init__(self, target: OutputTarget, schema: pa.Schema, task_index: int):
        self.target = target
        self.fs, self.root = target.filesystem()
        partition = target.partition_by
        self.file_schema = schema if partition is None else schema.remove(schema.get_field_index(partition))
        self.parquet_options = writer_options(self.file_schema, target.compression)
        self.task_index = task_index
        self.attempt = uuid.uuid4().hex[:8]
        self.files: Dict[Optional[str], _OpenFile] = {}

    def write(self, batch: pa.RecordBatch) -> None:
        partition = self.target.partition_by
        if partition is None:
            self._add(None, batch)
            return
        keys = batch.column(partition)
        data = batch.drop_columns([partition])
        for value in pc.unique(keys).to_pylist():
            rows = data.filter(pc.is_null(keys) if value is None else pc.equal(keys, value).fill_null(False))
            self._add(value, rows)

    def _add(self, value: Optional[str], batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        file = self.files.get(value)
        if file is None:
            name = self.target.file_name(self.task_index, self.attempt, len(self.files))
            file = self.files[value] = _OpenFile(name, stats=FileStats(self.file_schema))
        file.pending.append(batch)
        file.pending_bytes += batch.nbytes
        file.stats.add(batch)
        if file.pending_bytes >= self.target.row_group_bytes:
            self._flush(file)

    def _flush(self, file: _OpenFile) -> None:
        if not file.pending:
            return
        if file.writer is None:
            self.fs.makedirs(join(self.root, self.target.staging), exist_ok=True)
            file.sink = self.fs.open(join(self.root, self.target.staging, file.name), "wb")
            file.writer = pq.ParquetWriter(file.sink, self.file_schema, **self.parquet_options)
        table = pa.Table.from_batches(file.pending, schema=self.file_schema)
        file.writer.write_table(table, row_group_size=table.num_rows)
        file.pending, file.pending_bytes = [], 0

    def close(self) -> List[WrittenFile]:
        """Finish every file; the list the driver commits (nothing is visible before that)."""
        written = []
        for value, file in self.files.items():
            self._flush(file)
            file.writer.close()
            file.sink.close()
            staged = join(self.root, self.target.staging, file.name)
            written.append(WrittenFile(
                staged=file.name,
                final=join(self.target.folder_of(value), file.name),
                partition_value=value,
                rows=file.stats.rows,
                size=int(self.fs.size(staged)),
                stats=file.stats.to_json(),
            ))
        return written

    def abort(self) -> None:
        """Close what is open; the staged files are removed with the staging folder."""
        for file in self.files.values():
            if file.sink is not None:
                file.sink.close()


def write_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, target: OutputTarget,
               task_index: int) -> List[WrittenFile]:
    """Write all of a task's batches; the files to commit."""
    writer = TaskFileWriter(target, schema, task_index)
    try:
        for batch in batches:
            writer.write(batch)
    except BaseException:
        writer.abort()
        raise
    return writer.close()
