"""Where converted files go: the output URL, file naming, and Hive-style partition folders.

Executors write into a staging folder, ``OUT/_temporary/<job id>/``, under names unique to
the task *attempt*; only the files a successful attempt reports are moved into place by the
driver, so a retried or speculative task never leaves a duplicate file behind.
"""
from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import fsspec

from ..errors import ConfigError

STAGING_FOLDER = "_temporary"
SUCCESS_MARKER = "_SUCCESS"
# Spark's (and Hive's) folder name for a null partition value.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Spark's default parquet.block.size: one row group per 128 MiB lets its reader split files.
DEFAULT_ROW_GROUP_BYTES = 128 << 20
# Spark writes snappy Parquet by default; the output matches what users already have.
DEFAULT_COMPRESSION = "snappy"
FORMATS = ("parquet", "delta")
# The contig columns: BAM's, then VCF's, BED's and GFF's (text conversions).
PARTITION_COLUMNS = ("reference_name", "contigName", "chrom", "seqid")

# Characters Spark escapes as %XX in partition folder names (ExternalCatalogUtils).
_ESCAPED = set(map(chr, range(0x01, 0x20))) | set('"#%\'*/:=?\\\x7f{[]^')


def escape_partition_value(value: str) -> str:
    """A partition value as Spark names its folder (``chr1``, ``HLA-A%2A01%3A01``)."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in value)


def partition_folder(column: str, value: Optional[str], for_delta: bool = False) -> str:
    """``column=value`` (Hive style), null as Spark's default partition name.

    A Delta table takes partition values from its log, not from folder names, and its
    readers disagree on percent-decoding paths; so for Delta the characters Spark would
    escape become ``_`` instead (file names stay unique: they carry the task attempt).
    """
    if value is None:
        return f"{column}={NULL_PARTITION}"
    if for_delta:
        return f"{column}=" + "".join("_" if c in _ESCAPED else c for c in value)
    return f"{column}={escape_partition_value(value)}"


@dataclass(frozen=True)
class OutputTarget:
    """What every executor needs to write its files (picklable; travels with the tasks)."""

    out: str
    format: str = "parquet"
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    partition_by: Optional[str] = None
    row_group_bytes: int = DEFAULT_ROW_GROUP_BYTES
    compression: str = DEFAULT_COMPRESSION
    storage_options: Tuple[Tuple[str, str], ...] = ()

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ConfigError(f"output format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.partition_by is not None and self.partition_by not in PARTITION_COLUMNS:
            raise ConfigError(f"partition_by must be one of {', '.join(PARTITION_COLUMNS)}, got {self.partition_by!r}")
        if self.row_group_bytes < 1:
            raise ConfigError(f"row_group_bytes must be positive, got {self.row_group_bytes}")

    def filesystem(self) -> Tuple[fsspec.AbstractFileSystem, str]:
        """The fsspec filesystem and the output folder's path in it."""
        fs, root = fsspec.core.url_to_fs(self.out, **dict(self.storage_options))
        return fs, root.rstrip("/")

    @property
    def staging(self) -> str:
        """The job's staging folder, relative to the output folder."""
        return f"{STAGING_FOLDER}/{self.job_id}"

    def file_name(self, task_index: int, attempt: str, sequence: int) -> str:
        """A data file's name: task, job and attempt make it unique across retries."""
        return f"part-{task_index:05d}-{self.job_id}-{attempt}-{sequence:03d}.{self.compression}.parquet"

    def folder_of(self, partition_value: Optional[str]) -> str:
        """The folder (relative to the output) of a partition value; '' when unpartitioned."""
        if self.partition_by is None:
            return ""
        return partition_folder(self.partition_by, partition_value, for_delta=self.format == "delta")


def join(*parts: str) -> str:
    return posixpath.join(*[part for part in parts if part])


def storage_items(options: Optional[Dict[str, str]]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted((options or {}).items()))
