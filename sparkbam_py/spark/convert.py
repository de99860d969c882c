"""Any format the registry reads (BAM, CRAM, VCF...) to Parquet or Delta, written by the
executors themselves (no JVM row conversion).

The ``sparkbam_convert`` data source (``convert_source``) does the work: each partition
reads its split into Arrow and writes its Parquet files itself (pyarrow, into a staging
folder, under attempt-unique names), then yields one row per file.  The driver collects those
rows (Spark keeps only the successful attempt's) and commits exactly those files.  Being a
data source, it runs the same under Spark Connect (the server plans and writes; the client
only collects a few rows).  Spark 3.5 has no Python data sources: there the driver plans the
tasks and ``mapInArrow`` runs each partition's task the same way (:mod:`.executor`), with the
same files, rows and commit.  pyspark is imported when ``convert`` runs, not when this module is.
"""
from __future__ import annotations

import dataclasses
import json
import pickle
from functools import partial
from typing import Iterator, List, Optional, Sequence

import pyarrow as pa

from ..convert.commit import ConvertResult
from ..convert.target import OutputTarget
from ..convert.writer import WrittenFile, write_task
from ..formats import FormatRead
from ..formats.paths import PathsArgument, load_argument
from ..local.convert import Conversion
from .executor import tasks_frame
from .session import has_python_data_sources
from .slots import task_slots
from .source_names import CONVERTED_FILES_SCHEMA

# mapInArrow's batches must carry exactly the DDL's types (it does not convert them).
_CONVERTED_FILES = pa.schema([("staged", pa.string()), ("final", pa.string()), ("partition_value", pa.string()),
                              ("rows", pa.int64()), ("size", pa.int64()), ("stats", pa.string())])


def convert(spark, paths: PathsArgument, out: str, *, to: str = "parquet", partition_by: Optional[str] = None,
            columns: Optional[Sequence[str]] = None, mode: str = "error", split_size=None,
            row_group_bytes: Optional[int] = None, compression: Optional[str] = None,
            storage_options: Optional[dict] = None, tags: Optional[str] = None, **read_options) -> ConvertResult:
    """Convert BAMs (or CRAMs, VCFs, any format the registry reads) to Parquet or Delta.

    Each Spark task decodes its split into Arrow and writes its own Parquet files; the driver
    commits exactly the files of the successful attempts. The columns and types are exactly
    those of ``spark.read.format(<format>)``, so reading the output back gives the same rows.

    Args:
        spark: a SparkSession (classic or Connect).
        paths: a file, glob, directory or list; local or URL; the format is found by its bytes.
        out: the output folder, local or any fsspec URL.
        to: ``"parquet"`` (files and ``_SUCCESS``) or ``"delta"`` (one Delta commit).
        partition_by: ``"reference_name"`` writes Hive-style folders.
        columns: narrows the columns (default all).
        mode: ``"error"`` (default) refuses a non-empty output, ``"overwrite"`` replaces it,
            ``"append"`` adds to a Delta table.
        split_size: bytes per task; by default local inputs are cut into equal tasks filling
            whole waves of the session's task slots.
        row_group_bytes: Arrow bytes per Parquet row group (default 128 MiB).
        compression: the Parquet codec (default snappy, like Spark).
        storage_options: fsspec options (credentials, endpoint) for ``out``.
        tags: ``"NM:i,MD:Z"`` or ``"auto"`` adds the ``typed_tags`` struct column, as the
            ``bam`` source's ``tags`` option does.
        **read_options: the format's data source options in snake case (``reads_to_check``,
            ``verify_splits``, ``reference``...).

    Returns:
        A ``ConvertResult``: the output, its format, and the files, rows and bytes committed.
    """
    conversion = Conversion.prepare(paths, out, to=to, partition_by=partition_by, columns=columns, mode=mode,
                                    split_size=split_size, row_group_bytes=row_group_bytes, compression=compression,
                                    storage_options=storage_options, tags=tags, slots=task_slots(spark),
                                    **read_options)
    return conversion.run(lambda: _write_files(spark, paths, conversion))


def _write_files(spark, paths: PathsArgument, conversion: Conversion) -> List[WrittenFile]:
    if not has_python_data_sources(spark):
        return _write_files_in_arrow_tasks(spark, conversion)
    from .convert_source import (COLUMNS_OPTION, CONVERT_FORMAT, SOURCE_FORMAT_OPTION, TARGET_OPTION,
                                 ConvertDataSource, target_to_json)

    spark.dataSource.register(ConvertDataSource)
    reader = (spark.read.format(CONVERT_FORMAT).options(**conversion.options)
              .option(SOURCE_FORMAT_OPTION, conversion.format.name)
              .option(TARGET_OPTION, target_to_json(conversion.target))
              .option(COLUMNS_OPTION, json.dumps(list(conversion.read.arrow_schema.names))))
    return [WrittenFile(*row) for row in reader.load(load_argument(paths)).collect()]


def _write_files_in_arrow_tasks(spark, conversion: Conversion) -> List[WrittenFile]:
    read = conversion.read
    body = partial(convert_task_column, read=read, target=conversion.target)
    rows = tasks_frame(spark, read.tasks()).mapInArrow(body, CONVERTED_FILES_SCHEMA).collect()
    return [WrittenFile(*row) for row in rows]


def convert_task_column(batches: Iterator[pa.RecordBatch], read: FormatRead,
                        target: OutputTarget) -> Iterator[pa.RecordBatch]:
    """Each pickled task read and written as Parquet files into ``target``'s staging folder
    (as a ``sparkbam_convert`` partition does); one row per file written."""
    for batch in batches:
        for index, blob in zip(batch.column("task_index").to_pylist(), batch.column("task").to_pylist()):
            files = write_task(read.read(pickle.loads(blob)), read.arrow_schema, target, index)
            if files:
                yield pa.RecordBatch.from_pylist([dataclasses.asdict(file) for file in files], schema=_CONVERTED_FILES)
