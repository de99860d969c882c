"""Reading text files as units of work, with or without Spark: headers on the driver,
data lines (as Arrow) on the executors.

A unit is either a list of byte-range tasks (:mod:`.plan`) or a region partition
(:mod:`.regions`).  Header lines are those starting with one of the format's prefixes
(``#`` by default, the tabix ``meta`` character when the file has an index; BED adds
``track`` and ``browser``) anywhere in the file, and the first ``skip`` lines (tabix).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import DEFAULT_SPLIT_SIZE
from ..index.tabix import TabixConfig, find_tabix_path, read_tabix
from ..kernels import short_read
from .chunk import LineChunk
from .plan import TextTask, iter_task_chunks, plan_text_file
from .regions import RegionPartition, iter_region_lines, plan_region_partitions

# Header lines are read on the driver up to this many bytes (a VCF header with 100k
# samples is a few MB); past it the file is not what it claims.
MAX_HEADER_BYTES = 256 << 20
DEFAULT_HEADER_PREFIXES = ("#",)


@dataclass(frozen=True)
class FileHeader:
    """A file's header lines and how to tell header lines from data lines."""

    lines: Tuple[str, ...]
    prefixes: Tuple[str, ...] = DEFAULT_HEADER_PREFIXES
    # Lines named below this position are header (tabix ``skip``); None: no such lines.
    skip_end: Optional[int] = None

    def data_mask(self, chunk: LineChunk, lines: pa.Array) -> np.ndarray:
        """True for the data lines of a chunk."""
        header = np.zeros(len(lines), dtype=bool)
        for prefix in self.prefixes:
            header |= pc.starts_with(lines, prefix).to_numpy(zero_copy_only=False)
        if self.skip_end is not None:
            header |= chunk.positions() < self.skip_end
        return ~header


@dataclass(frozen=True)
class TextUnit:
    """One unit of work on one file: byte-range tasks, or a region partition."""

    path: str
    tasks: Tuple[TextTask, ...] = ()
    region: Optional[RegionPartition] = None


def tabix_config(path: str) -> Optional[TabixConfig]:
    """The tabix header of the index beside ``path``, if there is one."""
    index_path = find_tabix_path(path)
    return None if index_path is None else read_tabix(index_path).config


def read_file_header(path: str, prefixes: Sequence[str] = DEFAULT_HEADER_PREFIXES, skip: int = 0) -> FileHeader:
    """The leading header lines of ``path`` (prefixed lines and the first ``skip`` lines)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # planning the read proper warns once
        tasks = plan_text_file(path, MAX_HEADER_BYTES)
    with short_read():  # a header is a few blocks, not the split it opens
        return _leading_lines(tasks[0], prefixes, skip)


def _leading_lines(task, prefixes: Sequence[str], skip: int) -> FileHeader:
    found: List[str] = []
    skip_end, seen = None, 0
    for chunk in iter_task_chunks(task):
        lines = chunk.to_arrow()
        texts = lines.to_pylist()
        positions = chunk.positions()
        for k, text in enumerate(texts):  # header lines only: the loop stops at the first data line
            if seen < skip or text.startswith(tuple(prefixes)):
                seen += 1
                found.append(text)
                continue
            if skip:
                skip_end = int(positions[k])
            return FileHeader(tuple(found), tuple(prefixes), skip_end)
    return FileHeader(tuple(found), tuple(prefixes), None if not skip else np.iinfo(np.int64).max)


def plan_units(paths: Sequence[str], split_size=DEFAULT_SPLIT_SIZE, regions=None, verify: bool = True,
               blocks_to_check: Optional[int] = None) -> List[TextUnit]:
    """Units covering every file: one per byte range, or per region partition."""
    units: List[TextUnit] = []
    for path in paths:
        if regions is not None:
            units += [TextUnit(path, region=partition)
                      for partition in plan_region_partitions(path, regions, split_size, verify=verify)]
            continue
        extra = {} if blocks_to_check is None else {"blocks_to_check": blocks_to_check}
        units += [TextUnit(path, tasks=(task,)) for task in plan_text_file(path, split_size, verify, **extra)]
    return units


def iter_unit_lines(unit: TextUnit, header: Optional[FileHeader]) -> Iterator[Tuple[LineChunk, pa.Array]]:
    """The unit's lines as Arrow with their chunk (for positions); header lines dropped
    unless ``header`` is None."""
    pairs = iter_region_lines(unit.region) if unit.region is not None else (
        (chunk, chunk.to_arrow()) for task in unit.tasks for chunk in iter_task_chunks(task))
    for chunk, lines in pairs:
        if header is not None:
            keep = header.data_mask(chunk, lines)
            if not keep.all():
                chunk, lines = chunk.select(keep), lines.filter(pa.array(keep))
        if len(lines):
            yield chunk, lines


RegionsArgument = Union[None, str, Sequence[str]]
