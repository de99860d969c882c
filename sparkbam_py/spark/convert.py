"""Any format the registry reads (BAM, CRAM, VCF...) to Parquet or Delta, written by the
executors themselves (no JVM row conversion).

The ``sparkbam_convert`` data source (``convert_source``) does the work: each partition
reads its split into Arrow and writes its Parquet files itself (pyarrow, into a staging
folder, under attempt-unique names), then yields one row per file.  The driver collects those
rows (Spark keeps only the successful attempt's) and commits exactly those files.  Being a
data source, it runs the same under Spark Connect (the server plans and writes; the client
only collects a few rows).  pyspark is imported when ``convert`` runs, not when this module is.
"""
from __future__ import annotations

import json
from typing import List, Optional, Sequence

from ..convert.commit import ConvertResult
from ..convert.writer import WrittenFile
from ..formats.paths import PathsArgument, load_argument
from ..local.convert import Conversion
from .slots import task_slots


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
    from .convert_source import (COLUMNS_OPTION, CONVERT_FORMAT, SOURCE_FORMAT_OPTION, TARGET_OPTION,
                                 ConvertDataSource, target_to_json)

    spark.dataSource.register(ConvertDataSource)
    reader = (spark.read.format(CONVERT_FORMAT).options(**conversion.options)
              .option(SOURCE_FORMAT_OPTION, conversion.format.name)
              .option(TARGET_OPTION, target_to_json(conversion.target))
              .option(COLUMNS_OPTION, json.dumps(list(conversion.read.arrow_schema.names))))
    return [WrittenFile(*row) for row in reader.load(load_argument(paths)).collect()]
