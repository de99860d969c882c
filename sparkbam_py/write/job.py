"""A BAM write job: what the driver decides once, what each task does, what the commit gets.

The driver builds a :class:`WriteJob` (output path, header, settings, a job-unique folder
for parts) before any task runs and ships it to the tasks.  Each task writes its partition
to ``<parts>/part-<partition>-<attempt id>`` and returns a :class:`PartSummary`; Spark hands
the commit only the summaries of successful attempts, one per partition, so a failed or
retried attempt's file is never merged (the whole parts folder is removed afterwards).
"""
from __future__ import annotations

import posixpath
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

import pyarrow as pa

from ..bgzf.writer import BACKENDS
from ..errors import ConfigError
from .header import WriteHeader
from .index_merge import index_scheme
from .part import PartSummary, PartWriter, WriteSettings

PARTS_SUFFIX = ".parts-"


def filesystem(path: str):
    """``(fsspec filesystem, path within it)`` for a local path or URL."""
    import fsspec.core

    return fsspec.core.url_to_fs(path)


@dataclass(frozen=True)
class WriteJob:
    """Everything a task needs; picklable and small (the header text is its largest part)."""

    path: str
    parts_dir: str
    header: WriteHeader
    settings: WriteSettings
    sharded: bool = False
    index_kind: Optional[str] = None  # "bai", "csi" or None
    sorted_output: bool = False  # the rows were sorted for this write: parts out of order are an error

    @classmethod
    def create(cls, path: str, header: WriteHeader, *, overwrite: bool = False, sharded: bool = False,
               index: bool = True, level: Optional[int] = None, backend: str = "",
               sbi_granularity: Optional[int] = None, sorted_output: bool = False) -> "WriteJob":
        """Plan a write to ``path``; the output must not exist unless ``overwrite``."""
        fs, local = filesystem(path)
        if fs.exists(local) and not overwrite:
            raise ConfigError("the output exists; use overwrite (mode 'overwrite') to replace it", path)
        min_shift, depth, kind = index_scheme(header.reference_lengths)
        settings = WriteSettings(
            level=6 if level is None else _check_level(level), backend=_check_backend(backend or ""),
            index_scheme=(min_shift, depth) if index else None,
            sbi_granularity=4096 if sbi_granularity is None else _check_granularity(sbi_granularity))
        parent, name = posixpath.split(path.rstrip("/"))
        parts = posixpath.join(parent, f".{name}{PARTS_SUFFIX}{uuid.uuid4().hex}") if parent else \
            f".{name}{PARTS_SUFFIX}{uuid.uuid4().hex}"
        fs.makedirs(filesystem(parts)[1], exist_ok=True)
        return cls(path, parts, header, settings, sharded, kind if index else None, sorted_output)

    def part_path(self, partition: int, attempt: int) -> str:
        return posixpath.join(self.parts_dir, f"part-{partition:05d}-{attempt}")

    def write_part(self, batches: Iterable[pa.RecordBatch], partition: int, attempt: int) -> PartSummary:
        """A task's work: its batches to one part file (a complete BAM when sharded)."""
        with self.open_part(partition, attempt) as writer:
            for number, batch in enumerate(batches):
                if batch.num_rows:
                    writer.write_batch(batch, number)
            return writer.finish(self.part_path(partition, attempt), partition, attempt, eof=self.sharded)

    @contextmanager
    def open_part(self, partition: int, attempt: int) -> Iterator[PartWriter]:
        """A writer of the part file of ``partition``'s attempt ``attempt`` (closed after)."""
        fs, local = filesystem(self.part_path(partition, attempt))
        header = self.header.to_bytes() if self.sharded else None
        with fs.open(local, "wb") as out:
            yield PartWriter(out, self.header.names_array, self.settings, header=header, path=self.path)


def _check_level(level) -> int:
    level = int(level)
    if not 0 <= level <= 9:
        raise ConfigError(f"compression level must be 0..9, got {level}")
    return level


def _check_backend(backend: str) -> str:
    if backend and backend not in BACKENDS:
        raise ConfigError(f"deflate must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return backend


def _check_granularity(granularity) -> int:
    granularity = int(granularity)
    if granularity < 1:
        raise ConfigError(f"sbiGranularity must be at least 1, got {granularity}")
    return granularity
