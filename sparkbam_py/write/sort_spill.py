"""A coordinate sort's blocks exchanged through files, when every task shares one disk.

Spark's shuffle moves the sort's blocks (:mod:`.sort_blocks`) through the JVM: Arrow to
rows, serialised, lz4-framed, written, read back and turned into Arrow again, which is why
they travel zstd-compressed.  On a local master every task runs on the driver's machine, so
the task reading a split instead writes its kept records, uncompressed and in input order,
into one file of its own in a job-scoped folder, followed by four columns: each record's
key, reference end, size and output range (:class:`SpilledSplit` says what the file holds).
The task writing a range maps every file holding some of its records and gathers them in
one copy (:func:`range_block_of`); the records never pass through the JVM, are never
compressed, and are never bucketed by the reading task.

A file is named by its split and the task attempt that wrote it, so a failed or speculative
attempt never overwrites the file another attempt described; the driver uses only what
attempts Spark reports as successful returned, and removes the folder at the end.  A file
of another length than its description, or a range holding another number of records than
the reading task counted, is a :class:`~.errors.CommitError`.
"""
from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from ..bam.ragged import take_byte_ranges
from .encode import EncodedRecords
from .errors import CommitError
from .sort_blocks import RangeBlock, block_source
from .sort_plan import SortPlan
from .sort_rows import record_keys

# The columns after the records: key, reference end, size, output range per record.
_COLUMNS = (("keys", "<i8"), ("ends", "<i8"), ("sizes", "<i4"), ("ranges", "<i4"))
_BYTES_PER_RECORD = sum(np.dtype(dtype).itemsize for _, dtype in _COLUMNS)
# Free space a spill needs beyond its estimated size: the probes' estimate is a sample's.
SPACE_MARGIN = 1.25


@dataclass(frozen=True)
class SpilledSplit:
    """What one reading task's file holds: its records, then their columns."""

    split: int  # the split's number, in input order
    path: str
    count: int  # records
    record_bytes: int
    range_counts: np.ndarray  # int64: records per output range

    @property
    def size(self) -> int:
        return self.record_bytes + self.count * _BYTES_PER_RECORD


def spill_split(chunks: Iterable[EncodedRecords], plan: SortPlan, split_number: int, folder: str,
                attempt: int) -> SpilledSplit:
    """A reading task: its records, in input order, and their columns into a file of its own."""
    path = os.path.join(folder, f"split-{split_number:06d}-attempt-{attempt}.records")
    columns = {name: [] for name, _ in _COLUMNS}
    record_bytes = 0
    with open(path, "wb") as out:
        for records in chunks:
            if not len(records):
                continue
            out.write(records.data[records.offsets[0]:records.offsets[-1]].data)
            record_bytes += int(records.offsets[-1] - records.offsets[0])
            keys = record_keys(records)
            columns["keys"].append(keys)
            columns["ends"].append(records.end)
            columns["sizes"].append(np.diff(records.offsets))
            columns["ranges"].append(plan.range_of(keys, split_number))
        stacked = {name: np.concatenate(columns[name] + [np.zeros(0, dtype)]).astype(dtype)
                   for name, dtype in _COLUMNS}
        for name, _ in _COLUMNS:
            out.write(stacked[name].data)
    range_counts = np.bincount(stacked["ranges"], minlength=plan.ranges).astype(np.int64)
    return SpilledSplit(split_number, path, len(stacked["keys"]), record_bytes, range_counts)


def range_block_of(spilled: SpilledSplit, target: int) -> RangeBlock:
    """The records of range ``target`` in ``spilled``'s file, in input order, as one block."""
    with open(spilled.path, "rb") as source:
        length = os.fstat(source.fileno()).st_size
        if length != spilled.size:
            raise CommitError(f"the sort's file of split {spilled.split} holds {length} bytes, not the "
                              f"{spilled.size} its task wrote: refusing to write range {target} from it", spilled.path)
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) if length else b""
    raw = np.frombuffer(mapped, dtype=np.uint8)
    column, offset = {}, spilled.record_bytes
    for name, dtype in _COLUMNS:
        width = np.dtype(dtype).itemsize * spilled.count
        column[name] = raw[offset:offset + width].view(dtype)
        offset += width
    chosen = np.flatnonzero(column["ranges"] == target)
    if len(chosen) != spilled.range_counts[target]:
        raise CommitError(f"the sort's file of split {spilled.split} holds {len(chosen)} records of range "
                          f"{target}, its task counted {spilled.range_counts[target]}", spilled.path)
    sizes = column["sizes"].astype(np.int64)
    starts = np.cumsum(sizes) - sizes
    records = take_byte_ranges(raw[:spilled.record_bytes], starts, sizes, chosen).values
    return RangeBlock(block_source(spilled.split, 0), column["keys"][chosen], column["ends"][chosen],
                      column["sizes"][chosen], records)


def room_to_spill(root: str, record_bytes: int) -> bool:
    """Whether ``root``'s disk has room for ``record_bytes`` of records (and their keys) to spare."""
    try:
        free = shutil.disk_usage(root if os.path.isdir(root) else os.path.dirname(os.path.abspath(root))).free
    except OSError:
        return False
    return free >= SPACE_MARGIN * record_bytes


@contextmanager
def spill_folder(root: str) -> Iterator[str]:
    """A fresh folder under ``root`` for one sort's block files, removed afterwards, failed or not."""
    os.makedirs(root, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="sparkbam-sort-", dir=root)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
