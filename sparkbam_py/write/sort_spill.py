"""A coordinate sort's blocks exchanged through files, when every task shares one disk.

Spark's shuffle moves the sort's blocks (:mod:`.sort_blocks`) through the JVM: Arrow to
rows, serialised, lz4-framed, written, read back and turned into Arrow again, which is why
they travel zstd-compressed.  On a local master every task runs on the driver's machine, so
the task reading a split instead writes its kept records, uncompressed and in input order,
into one file of its own in a job-scoped folder, followed by four columns grouped by output
range (input order within each): each record's key, reference end, size and place in the
file.  :class:`SpilledSplit` says what a file holds and how many records of each range; the
task writing a range gets its :class:`RangeShares` (which files, which rows of their
columns), reads just that stretch of each file's columns and gathers its records in one
copy (:func:`range_block_of`).  The records never pass through the JVM, are never compressed,
and are never copied by the reading task; a writer's work grows with its share, not with
the number of ranges.

A file is named by its split and the task attempt that wrote it, so a failed or speculative
attempt never overwrites the file another attempt described; the driver uses only what
attempts Spark reports as successful returned, and removes the folder at the end.  A file
of another length than its description, or a record place outside the file, is a
:class:`~.errors.CommitError`.
"""
from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Sequence

import numpy as np

from ..bam.ragged import take_byte_ranges
from .encode import EncodedRecords
from .errors import CommitError
from .sort_blocks import RangeBlock, block_source
from .sort_plan import SortPlan
from .sort_rows import record_keys

# The columns after the records, grouped by range: key, reference end, size, place in the file.
_COLUMNS = (("keys", "<i8"), ("ends", "<i8"), ("sizes", "<i4"), ("starts", "<i8"))
_BYTES_PER_RECORD = sum(np.dtype(dtype).itemsize for _, dtype in _COLUMNS)
# Free space a spill needs beyond its estimated size: the probes' estimate is a sample's.
SPACE_MARGIN = 1.25


@dataclass(frozen=True)
class SpilledFile:
    """One reading task's file: its records, then their columns by range."""

    split: int  # the split's number, in input order
    path: str
    count: int  # records
    record_bytes: int

    @property
    def size(self) -> int:
        return self.record_bytes + self.count * _BYTES_PER_RECORD


@dataclass(frozen=True)
class SpilledSplit:
    """What a reading task returns: its file, and how many of its records each range holds."""

    file: SpilledFile
    range_counts: np.ndarray  # int64, one per output range, in the columns' order


@dataclass(frozen=True)
class RangeShares:
    """Where one range's records lie: for each file holding some (an index into the job's
    file list), the range's first row in that file's columns and its number of records."""

    target: int
    files: np.ndarray  # int32
    firsts: np.ndarray  # int64
    records: np.ndarray  # int64


def spill_split(chunks: Iterable[EncodedRecords], plan: SortPlan, split_number: int, folder: str,
                attempt: int) -> SpilledSplit:
    """A reading task: its records, in input order, and their columns by range into a file of its own."""
    path = os.path.join(folder, f"split-{split_number:06d}-attempt-{attempt}.records")
    columns = {name: [] for name, _ in _COLUMNS}
    chunk_ranges = []
    record_bytes = 0
    with open(path, "wb") as out:
        for records in chunks:
            if not len(records):
                continue
            first, last = int(records.offsets[0]), int(records.offsets[-1])
            out.write(records.data[first:last].data)
            keys = record_keys(records)
            columns["keys"].append(keys)
            columns["ends"].append(records.end)
            columns["sizes"].append(np.diff(records.offsets))
            columns["starts"].append(records.offsets[:-1] - first + record_bytes)
            chunk_ranges.append(plan.range_of(keys, split_number))
            record_bytes += last - first
        ranges = np.concatenate(chunk_ranges + [np.zeros(0, dtype=np.int32)])
        by_range = np.argsort(ranges, kind="stable")  # input order within each range
        for name, dtype in _COLUMNS:
            out.write(np.concatenate(columns[name] + [np.zeros(0, dtype)]).astype(dtype)[by_range].data)
    range_counts = np.bincount(ranges, minlength=plan.ranges).astype(np.int64)
    return SpilledSplit(SpilledFile(split_number, path, len(ranges), record_bytes), range_counts)


def range_shares(spilled: Sequence[SpilledSplit], ranges: int) -> List[RangeShares]:
    """Each range's shares of the files (ranges holding no record left out), from one
    matrix of counts: the driver's work grows with files x ranges, never with records."""
    counts = np.stack([split.range_counts for split in spilled]) if spilled else np.zeros((0, ranges), np.int64)
    firsts = np.cumsum(counts, axis=1) - counts
    shares = []
    for target in range(ranges):
        held = np.flatnonzero(counts[:, target])
        if len(held):
            shares.append(RangeShares(target, held.astype(np.int32), firsts[held, target], counts[held, target]))
    return shares


def range_blocks_of(files: Sequence[SpilledFile], shares: RangeShares) -> List[RangeBlock]:
    """The range's records, one block per file holding some."""
    return [range_block_of(files[index], int(first), int(records))
            for index, first, records in zip(shares.files.tolist(), shares.firsts.tolist(), shares.records.tolist())]


def range_block_of(file: SpilledFile, first: int, records: int) -> RangeBlock:
    """Rows ``first .. first + records`` of ``file``'s columns and their records, in input order, as one block."""
    with open(file.path, "rb") as source:
        length = os.fstat(source.fileno()).st_size
        if length != file.size:
            raise CommitError(f"the sort's file of split {file.split} holds {length} bytes, not the "
                              f"{file.size} its task wrote", file.path)
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) if length else b""
    if first < 0 or first + records > file.count:
        raise CommitError(f"rows {first}..{first + records} asked of the sort's file of split {file.split}, "
                          f"which holds {file.count}", file.path)
    raw = np.frombuffer(mapped, dtype=np.uint8)
    column, offset = {}, file.record_bytes
    for name, dtype in _COLUMNS:
        width = np.dtype(dtype).itemsize
        column[name] = raw[offset + width * first:offset + width * (first + records)].view(dtype)
        offset += width * file.count
    starts, sizes = column["starts"], column["sizes"].astype(np.int64)
    if records and (starts[0] < 0 or (np.diff(starts) < sizes[:-1]).any() or starts[-1] + sizes[-1] > file.record_bytes):
        raise CommitError(f"the sort's file of split {file.split} places records outside its "
                          f"{file.record_bytes} bytes of records, or out of input order", file.path)
    data = take_byte_ranges(raw[:file.record_bytes], starts, sizes).values
    return RangeBlock(block_source(file.split, 0), column["keys"].copy(), column["ends"].copy(),
                      column["sizes"].copy(), data)


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
