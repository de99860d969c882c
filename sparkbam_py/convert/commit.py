"""Driver side of a conversion: prepare the output, then commit exactly the reported files.

Parquet: the files move from the staging folder into place, then ``_SUCCESS`` is written
(Spark's and Hadoop's marker of a complete output).  Delta: the files move into the table
folder and one commit through ``deltalake`` (delta-rs) adds them, so the table's version
holds all of them or none.  Either way the staging folder, with any file of a failed or
duplicate attempt, is removed.
"""
from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from typing import List, Sequence

import pyarrow as pa

from ..errors import ConfigError
from .target import STAGING_FOLDER, SUCCESS_MARKER, OutputTarget, join
from .writer import WrittenFile

MODES = ("error", "overwrite", "append")


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion committed."""

    out: str
    format: str
    files: int
    rows: int
    bytes: int


def prepare_output(target: OutputTarget, fmt: str, mode: str) -> None:
    """Refuse or clear an existing output, as ``mode`` says, before any task writes."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "append" and fmt != "delta":
        raise ConfigError("mode 'append' is for Delta tables; Parquet output is written whole")
    fs, root = target.filesystem()
    if not fs.exists(root) or not fs.ls(root):
        return
    if mode == "error":
        raise ConfigError(f"output {target.out} already exists and is not empty (use mode 'overwrite')")
    if mode == "overwrite" and fmt == "parquet":
        fs.rm(root, recursive=True)


def abort(target: OutputTarget) -> None:
    """Remove the job's staging folder (nothing of it was committed)."""
    fs, root = target.filesystem()
    staging = join(root, target.staging)
    if fs.exists(staging):
        fs.rm(staging, recursive=True)
    _remove_empty_staging_parent(fs, root)


def commit(target: OutputTarget, fmt: str, mode: str, schema: pa.Schema, files: Sequence[WrittenFile]) -> ConvertResult:
    """Move the reported files into place and make them visible (``_SUCCESS`` or a Delta commit)."""
    _check_unique(files)
    fs, root = target.filesystem()
    for file in files:
        destination = join(root, file.final)
        fs.makedirs(destination.rsplit("/", 1)[0], exist_ok=True)
        fs.mv(join(root, target.staging, file.staged), destination)
    abort(target)
    if fmt == "delta":
        _commit_delta(target, mode, schema, files)
    else:
        fs.makedirs(root, exist_ok=True)
        fs.pipe(join(root, SUCCESS_MARKER), b"")
    return ConvertResult(target.out, fmt, len(files), sum(f.rows for f in files), sum(f.size for f in files))


def _check_unique(files: Sequence[WrittenFile]) -> None:
    finals = [file.final for file in files]
    if len(set(finals)) != len(finals):  # attempt ids make this impossible; never commit it anyway
        raise ConfigError("two tasks reported the same output file; nothing was committed")


def _remove_empty_staging_parent(fs, root: str) -> None:
    parent = join(root, STAGING_FOLDER)
    if fs.exists(parent) and not fs.ls(parent):
        fs.rm(parent, recursive=True)


def _commit_delta(target: OutputTarget, mode: str, schema: pa.Schema, files: Sequence[WrittenFile]) -> None:
    try:
        from deltalake import DeltaTable, Schema
        from deltalake.transaction import AddAction, create_table_with_add_actions
    except ImportError:
        raise ConfigError("Delta output needs deltalake: pip install 'sparkbam_py[delta]'") from None
    now = int(time.time() * 1000)
    partition = target.partition_by
    actions: List[AddAction] = [
        AddAction(
            path=urllib.parse.quote(file.final, safe="/="),  # relative URI; folder names hold no escapes
            size=file.size,
            partition_values={} if partition is None else {partition: file.partition_value},
            modification_time=now,
            data_change=True,
            stats=file.stats,
        )
        for file in files
    ]
    storage = dict(target.storage_options) or None
    partition_by = None if partition is None else [partition]
    delta_schema = Schema.from_arrow(schema)
    if mode != "error" and DeltaTable.is_deltatable(target.out, storage_options=storage):
        table = DeltaTable(target.out, storage_options=storage)
        table.create_write_transaction(actions, mode=mode, schema=delta_schema, partition_by=partition_by)
    else:
        create_table_with_add_actions(target.out, delta_schema, actions, mode="error" if mode == "error" else "overwrite",
                                      partition_by=partition_by, storage_options=storage)
