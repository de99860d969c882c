"""What runs inside a Spark task: one :class:`~sparkbam_py.splits.SplitTask` in, results out.

Nothing here imports pyspark, so the same functions serve the data source, ``mapInArrow``
and the RDD API.  Every handle (our channel, pysam's file) is opened here, in the task.
"""
from __future__ import annotations

import pickle
from typing import Callable, Iterator, Optional, Tuple
from urllib.parse import urlsplit

import pyarrow as pa

from ..bam.decode import decode_records
from ..bgzf.blocks import read_block_header
from ..cram.reader import CramSplitReader, CramTask
from ..errors import ConfigError
from ..pos import Pos
from ..splits import SplitReader, SplitTask
from .plan import ColumnPlan

# URL schemes htslib (inside pysam) opens itself; local paths and file:// are handled here.
PYSAM_SCHEMES = ("http", "https", "ftp", "s3", "gs", "gcs")
# RFC 1952: a gzip member ends with ISIZE, the inflated length, as a 32-bit little-endian int.
ISIZE_BYTES = 4
# Inflated bytes decoded per Arrow batch handed to the JVM (~14 k short reads).  Each batch
# crosses from the Python worker to the JVM as one Arrow message; against the walk's 1 MiB
# chunks (~3.5 k reads) these took ~10% less CPU in the worker and the JVM together for the
# full-schema DataFrame of the short-read bench BAM (bench/bench_native.py, noop job), though
# decoding alone is no faster.  Batches that stay in Python (Parquet, local) keep 1 MiB.
SPARK_BATCH_CHUNK_BYTES = 4 << 20


def read_record_batches(task: SplitTask, plan: ColumnPlan,
                        chunk_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
    """The task's records as Arrow batches with exactly ``plan.arrow_schema``, one batch per
    walk chunk of at most ``chunk_bytes`` inflated bytes (the walk's default when None)."""
    with SplitReader(task) as split:
        names = split.header.reference_names
        for chunk in split.iter_chunks(chunk_bytes):
            positions = chunk.virtual_offsets() if plan.with_file_position else None
            decoded = decode_records(chunk.run.data, chunk.offsets, names, plan.record_columns, positions,
                                     path=task.path, typed_tags=plan.tag_spec)
            yield plan.arrange(decoded, task.path)


def read_cram_batches(task: CramTask, plan: ColumnPlan) -> Iterator[pa.RecordBatch]:
    """A CRAM task's records as Arrow batches of ``plan.arrow_schema``: htslib decodes, the
    columns are the BAM path's (``format("cram")``, ``read_table``)."""
    with CramSplitReader(task) as reader:
        for batch in reader.iter_batches(plan.record_columns):
            yield plan.arrange(batch, task.path)


def read_task_column(batches: Iterator[pa.RecordBatch], plan: ColumnPlan) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: the records of every pickled task in the ``task`` column."""
    for batch in batches:
        for blob in batch.column("task").to_pylist():
            yield from read_record_batches(pickle.loads(blob), plan, SPARK_BATCH_CHUNK_BYTES)


def split_row(task: SplitTask, count: bool) -> Tuple[str, int, int, Optional[int], Optional[int]]:
    """``(path, range_start, range_end, first record's virtual offset, records)`` of a task.

    ``records`` (a chain walk, with the boundary check) only when ``count``; else None.
    """
    with SplitReader(task) as split:
        first = split.start
        records = split.count() if count else None
    return task.path, task.range.start, task.range.end, None if first is None else first.virtual, records


def pysam_path(path: str) -> str:
    """What to hand pysam for ``path``; ConfigError for stores htslib cannot open."""
    scheme = urlsplit(path).scheme
    if scheme == "" or len(scheme) == 1:
        return path
    if scheme == "file":
        return urlsplit(path).path
    if scheme in PYSAM_SCHEMES:
        return path
    raise ConfigError(
        f"map_partitions reads with pysam (htslib), which cannot open {scheme}:// URLs; "
        "use load_reads for this store", path)


def apply_to_split(task: SplitTask, fn: Callable) -> object:
    """``fn(iterator of pysam.AlignedSegment)`` over the task's records, then the boundary check.

    If ``fn`` stops early, the rest of the split is still read (not handed to ``fn``) so the
    boundary can be checked: a result computed from a wrong start must not come back.
    """
    with SplitReader(task) as split:
        segments = _PysamSegments(split)
        try:
            result = fn(iter(segments))
            segments.finish()
        finally:
            segments.close()
    return result


class _PysamSegments:
    """pysam's records from the split's start while the split owns them."""

    def __init__(self, split: SplitReader):
        self.split = split
        self.file = None
        self.landing: Optional[Pos] = None
        start = split.start
        if start is not None:
            import pysam

            self.file = pysam.AlignmentFile(pysam_path(split.task.path), "rb", check_sq=False)
            self.file.seek(start.virtual)
        else:
            self.landing = start

    def __iter__(self):
        if self.file is None:
            return
        end = self.split.task.range.end
        while True:
            here = Pos.from_virtual(self.file.tell())
            if here.block_pos >= end or self._first_byte_block(here) >= end:
                self.landing = here
                return
            try:
                segment = next(self.file)
            except StopIteration:
                self.landing = Pos.from_virtual(self.file.tell())
                return
            yield segment

    def _first_byte_block(self, pos: Pos) -> int:
        """The block holding the byte at ``pos``: past any empty blocks htslib names it by."""
        if pos.offset:
            return pos.block_pos
        channel, block = self.split.channel, pos.block_pos
        while block < channel.size:
            header = read_block_header(channel, block)
            isize = channel.read_at(header.end - ISIZE_BYTES, ISIZE_BYTES)
            if int.from_bytes(isize, "little"):
                return block
            block = header.end
        return block

    def finish(self) -> None:
        """Read to the split's end if ``fn`` did not, then check the boundary."""
        if self.file is not None and self.landing is None:
            for _ in self:
                pass
        if self.split.task.verify and self.file is not None:
            self.split.verify_boundary(self.landing)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
