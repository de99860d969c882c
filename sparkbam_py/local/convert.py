"""``convert_local``: BAM to Parquet or Delta on one machine, without Spark.

The conversion Spark runs (``spark.convert``), with local threads as the executors: each
split is decoded and written to its own Parquet files by one thread, and the files are
committed exactly as ``convert`` commits them (``_SUCCESS``, or one Delta commit), so the
output is the same table.  Threads, not processes: the inflate and decode kernels and
pyarrow's Parquet writer all run without the GIL, so two threads keep two cores busy
with no worker start-up and no hand-over of batches between processes.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence

from ..convert.commit import ConvertResult
from ..convert.writer import WrittenFile, write_task
from ..errors import ConfigError
from ..spark.convert import Conversion
from ..spark.executor import read_record_batches
from ..spark.paths import PathsArgument
from ..spark.plan import plan_reads
from ..spark.task_sizing import balanced_split_size_for


def convert_local(paths: PathsArgument, out: str, *, workers: int = 1, to: str = "parquet",
                  partition_by: Optional[str] = None, columns: Optional[Sequence[str]] = None, mode: str = "error",
                  split_size=None, row_group_bytes: Optional[int] = None, compression: Optional[str] = None,
                  storage_options: Optional[dict] = None, tags: Optional[str] = None,
                  **read_options) -> ConvertResult:
    """Convert BAMs to Parquet files (with ``_SUCCESS``) or a Delta table at ``out``, as
    :func:`sparkbam_py.convert` does, with ``workers`` threads of this process writing.

    Arguments are ``convert``'s; without ``split_size``, local inputs are cut into equal
    tasks filling whole waves of ``workers``.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number of at least 1, got {workers!r}")
    if split_size is None:
        split_size = balanced_split_size_for(paths, workers)
    conversion = Conversion.prepare(paths, out, to=to, partition_by=partition_by, columns=columns, mode=mode,
                                    split_size=split_size, row_group_bytes=row_group_bytes, compression=compression,
                                    storage_options=storage_options, tags=tags, **read_options)
    return conversion.run(lambda: _write_files(paths, conversion, workers))


def _write_files(paths: PathsArgument, conversion: Conversion, workers: int) -> List[WrittenFile]:
    tasks = plan_reads(paths, conversion.options)
    plan, target = conversion.plan, conversion.target

    def write(index: int) -> List[WrittenFile]:
        return write_task(read_record_batches(tasks[index], plan), plan.arrow_schema, target, index)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sparkbam-convert") as pool:
        # map() yields in task order and re-raises a task's typed error here.
        return [file for files in pool.map(write, range(len(tasks))) for file in files]
