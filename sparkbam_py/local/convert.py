"""A conversion to Parquet or Delta (:class:`Conversion`), and ``convert_local``: it on one
machine, without Spark.

The conversion Spark runs (``spark.convert``) is the same, with Spark's executors for the
local threads: each split is decoded and written to its own Parquet files by one thread, and
the files are committed exactly as ``convert`` commits them (``_SUCCESS``, or one Delta
commit), so the output is the same table.  Threads, not processes: the inflate and decode
kernels and pyarrow's Parquet writer all run without the GIL, so two threads keep two cores
busy with no worker start-up and no hand-over of batches between processes.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Sequence

from ..convert.commit import ConvertResult, abort, commit, prepare_output
from ..convert.target import OutputTarget, storage_items
from ..convert.writer import WrittenFile, write_task
from ..errors import ConfigError
from ..formats import FORMAT_NAMES, Format, FormatRead, format_for, options_of, read_of
from ..formats.paths import PathsArgument
from ..formats.sizing import balanced_split_size_for


class Conversion:
    """What a conversion reads, writes and how it commits, whoever runs its tasks (Spark or local)."""

    def __init__(self, source_format: Format, read: FormatRead, options: Dict[str, str], target: OutputTarget,
                 to: str, mode: str):
        self.format, self.read, self.options = source_format, read, options
        self.target, self.to, self.mode = target, to, mode

    @classmethod
    def prepare(cls, paths: PathsArgument, out: str, *, to: str, partition_by: Optional[str], columns, mode: str,
                split_size, row_group_bytes: Optional[int], compression: Optional[str],
                storage_options: Optional[dict], tags: Optional[str], slots: Optional[int],
                **read_options) -> "Conversion":
        """The input's format found, options and columns checked, the output target named
        (nothing written yet).  Without ``split_size``, local inputs are cut into equal tasks
        filling whole waves of ``slots``."""
        source_format = format_for(paths, FORMAT_NAMES, "convert")
        if split_size is None:
            split_size = balanced_split_size_for(paths, slots, source_format.suffixes)
        keywords = dict(split_size=split_size, tags=tags, **read_options)
        read = read_of(source_format, paths, "convert", columns, **keywords)
        if partition_by is not None and partition_by not in read.arrow_schema.names:
            raise ConfigError(f"partition column {partition_by!r} is not among the converted columns")
        extra = {k: v for k, v in (("row_group_bytes", row_group_bytes), ("compression", compression)) if v is not None}
        target = OutputTarget(os.fspath(out), to, partition_by=partition_by,
                              storage_options=storage_items(storage_options), **extra)
        return cls(source_format, read, options_of(**keywords), target, to, mode)

    def run(self, write_files: Callable[[], List[WrittenFile]]) -> ConvertResult:
        """Prepare the output, let ``write_files`` write every task's files, commit exactly
        those; on any failure remove what was staged."""
        prepare_output(self.target, self.to, self.mode)
        try:
            return commit(self.target, self.to, self.mode, self.read.arrow_schema, write_files())
        except BaseException:
            abort(self.target)
            raise


def convert_local(paths: PathsArgument, out: str, *, workers: int = 1, to: str = "parquet",
                  partition_by: Optional[str] = None, columns: Optional[Sequence[str]] = None, mode: str = "error",
                  split_size=None, row_group_bytes: Optional[int] = None, compression: Optional[str] = None,
                  storage_options: Optional[dict] = None, tags: Optional[str] = None,
                  **read_options) -> ConvertResult:
    """:func:`convert` without Spark: ``workers`` threads of this process decode and write.

    The inflate and decode kernels and pyarrow's writer run without the GIL; the commit is
    :func:`convert`'s.

    Args:
        paths: a file, glob, directory or list; local or URL; any format the library reads.
        out: the output folder, local or any fsspec URL.
        workers: threads decoding and writing.
        to: ``"parquet"`` or ``"delta"``.
        partition_by: ``"reference_name"`` writes Hive-style folders.
        columns: narrows the columns (default all).
        mode: ``"error"``, ``"overwrite"`` or ``"append"`` (Delta), as :func:`convert`.
        split_size: bytes per task; by default local inputs are cut into equal tasks filling
            whole waves of ``workers``.
        row_group_bytes: Arrow bytes per Parquet row group.
        compression: the Parquet codec (default snappy).
        storage_options: fsspec options for ``out``.
        tags: typed tags, as :func:`convert`.
        **read_options: the format's options in snake case.

    Returns:
        A ``ConvertResult``: the output, its format, and the files, rows and bytes committed.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number of at least 1, got {workers!r}")
    conversion = Conversion.prepare(paths, out, to=to, partition_by=partition_by, columns=columns, mode=mode,
                                    split_size=split_size, row_group_bytes=row_group_bytes, compression=compression,
                                    storage_options=storage_options, tags=tags, slots=workers, **read_options)
    return conversion.run(lambda: _write_files(conversion, workers))


def _write_files(conversion: Conversion, workers: int) -> List[WrittenFile]:
    read, target = conversion.read, conversion.target
    tasks = read.tasks()

    def write(index: int) -> List[WrittenFile]:
        return write_task(read.read(tasks[index]), read.arrow_schema, target, index)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sparkbam-convert") as pool:
        # map() yields in task order and re-raises a task's typed error here.
        return [file for files in pool.map(write, range(len(tasks))) for file in files]
