"""A coordinate sort's blocks exchanged through files, when every task shares one disk.

Spark's shuffle moves the sort's blocks (:mod:`.sort_blocks`) through the JVM: Arrow to
rows, serialised, lz4-framed, written, read back and turned into Arrow again, which is why
they travel zstd-compressed.  On a local master every task runs on the driver's machine, so
the reading task can instead write its blocks, records uncompressed, into one file of its
own in a job-scoped folder, and return only where each block lies (:class:`SpilledBlock`);
the task writing a range reads its blocks back with ``pread``.  Nothing of the records
passes through the JVM, and nothing is compressed twice.

A block file is named by its split and the task attempt that wrote it, so a failed or
speculative attempt never overwrites the places another attempt returned; the driver uses
only the places of attempts Spark reports as successful, and removes the folder at the end.
A block shorter on disk than its place says is a :class:`~.errors.CommitError`.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, List

import numpy as np

from .encode import EncodedRecords
from .errors import CommitError
from .sort_blocks import FLUSH_BYTES, RangeBlock, range_blocks
from .sort_plan import SortPlan

# Bytes per key, reference end and record size in a block (int64, int64, int32).
_COLUMN_BYTES = (8, 8, 4)
# Free space a spill needs beyond its estimated size: the probes' estimate is a sample's.
SPACE_MARGIN = 1.25


@dataclass(frozen=True)
class SpilledBlock:
    """Where one block of a range lies in a block file."""

    target: int  # the output range
    source: int  # (split number << 32) + flush number: input order
    path: str
    offset: int
    count: int  # records
    record_bytes: int

    @property
    def size(self) -> int:
        return self.count * sum(_COLUMN_BYTES) + self.record_bytes


def spill_split(chunks: Iterable[EncodedRecords], plan: SortPlan, split_number: int, folder: str, attempt: int,
                flush_bytes: int = FLUSH_BYTES) -> List[SpilledBlock]:
    """A reading task: its records bucketed by range into its own block file; where each block lies."""
    path = os.path.join(folder, f"split-{split_number:06d}-attempt-{attempt}.blocks")
    places: List[SpilledBlock] = []
    offset = 0
    with open(path, "wb") as out:
        for blocks in range_blocks(chunks, plan, split_number, flush_bytes):
            for target, block in blocks:
                for column in (block.keys, block.ends, block.sizes, block.stored):
                    out.write(np.ascontiguousarray(column).data)
                place = SpilledBlock(target, block.source, path, offset, len(block.keys), len(block.stored))
                places.append(place)
                offset += place.size
    return places


def read_spilled(place: SpilledBlock) -> RangeBlock:
    """The block at ``place``, records uncompressed."""
    with open(place.path, "rb") as source:
        data = os.pread(source.fileno(), place.size, place.offset)
    if len(data) != place.size:
        raise CommitError(f"a block of the sort's range {place.target} is cut short at byte {place.offset} "
                          f"(expected {place.size} bytes, read {len(data)})", place.path)
    raw = np.frombuffer(data, dtype=np.uint8)
    cuts = np.cumsum([0] + [place.count * width for width in _COLUMN_BYTES])
    keys, ends, sizes = (raw[cuts[i]:cuts[i + 1]].view(dtype) for i, dtype in enumerate(("<i8", "<i8", "<i4")))
    stored = raw[cuts[-1]:]
    if int(sizes.sum(dtype=np.int64)) != len(stored):
        raise CommitError(f"a block of the sort's range {place.target} at byte {place.offset} does not hold "
                          "the records its sizes say", place.path)
    return RangeBlock(place.source, keys, ends, sizes, stored)


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
