"""Bgzipped text (VCF, BED, GFF, tabix, lines) to Parquet or Delta, written by the executors.

``spark.read.format("vcf").load(...).write.parquet(...)`` hands every parsed row to the JVM
(nested genotypes included) before Spark's Parquet writer sees it; that conversion, not the
parsing, is most of such a job.  ``convert_text`` skips it, as ``convert`` does for BAM: the
``text_convert`` data source's partitions are the format's own (``spark.text_source``), and
each ``read()`` parses its range into Arrow and writes the Parquet files itself (pyarrow,
``convert.writer``), yielding one row per file; the driver commits exactly those files
(``convert.commit``).  The files hold exactly the columns ``spark.read.format(...)`` gives.
Being a data source, it runs the same under Spark Connect.
"""
from __future__ import annotations

import json
import os
from typing import Iterator, List, Mapping, Optional

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..convert.commit import ConvertResult, abort, commit, prepare_output
from ..convert.target import OutputTarget, storage_items
from ..convert.writer import WrittenFile, write_task
from ..errors import ConfigError
from .convert_source import FILES_SCHEMA, target_from_json, target_to_json
from .api import FIRST_DATASOURCE_SPARK
from .paths import PathsArgument
from .session import spark_major_version
from .task_sizing import balanced_split_size_for, task_slots
from .text_source import FORMAT_OPTIONS, TextDataSource, TextInputPartition, TextReader, read_text_batches

CONVERT_FORMAT = "text_convert"
FORMAT_OPTION = "convertFormat"
TARGET_OPTION = "convertTarget"
def convert_text(spark, paths: PathsArgument, out: str, format_name: str, *, to: str = "parquet",
                 partition_by: Optional[str] = None, mode: str = "error", split_size=None,
                 row_group_bytes: Optional[int] = None, compression: Optional[str] = None,
                 storage_options: Optional[dict] = None, options: Optional[Mapping[str, str]] = None
                 ) -> ConvertResult:
    """Convert bgzipped text files of ``format_name`` (``vcf``, ``bed``, ``gff``, ``tabix``,
    ``bgzf_text``) to Parquet files (with ``_SUCCESS``) or a Delta table at ``out``.

    ``options`` are ``spark.read.format(format_name)``'s (``includeSampleIds``, ``regions``...).
    Without ``split_size``, local inputs are cut into equal tasks filling whole waves of the
    session's task slots.
    """
    if spark_major_version(spark) < FIRST_DATASOURCE_SPARK:
        raise ConfigError(f"converting text runs as a Python data source, which needs Spark >= 4.0 "
                          f"(this is {spark.version}); read it with sparkbam_py.map_regions instead")
    if format_name not in FORMAT_OPTIONS:
        raise ConfigError(f"convert cannot read format {format_name!r}; text formats: {', '.join(FORMAT_OPTIONS)}")
    read_options = {key: str(value) for key, value in (options or {}).items()}
    if split_size is None:  # whole waves of the task slots, as for BAM (spark/task_sizing.py)
        split_size = balanced_split_size_for(paths, task_slots(spark))
    if split_size is not None:
        read_options["splitSize"] = str(split_size)
    read_options["paths"] = json.dumps(_path_list(paths))
    arrow_schema = _source(format_name, read_options)._setup()[3]
    if partition_by is not None and partition_by not in arrow_schema.names:
        raise ConfigError(f"partition column {partition_by!r} is not among the converted columns")
    extra = {k: v for k, v in (("row_group_bytes", row_group_bytes), ("compression", compression)) if v is not None}
    target = OutputTarget(os.fspath(out), to, partition_by=partition_by,
                          storage_options=storage_items(storage_options), **extra)
    prepare_output(target, to, mode)
    try:
        files = _write_files(spark, format_name, read_options, target)
        return commit(target, to, mode, arrow_schema, files)
    except BaseException:
        abort(target)
        raise


def _path_list(paths: PathsArgument) -> List[str]:
    return [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(path) for path in paths]


def _source(format_name: str, options: Mapping[str, str]) -> TextDataSource:
    source = type(f"{format_name}_source", (TextDataSource,), {"format_name": format_name})(dict(options))
    return source


def _write_files(spark, format_name: str, read_options: Mapping[str, str], target: OutputTarget) -> List[WrittenFile]:
    spark.dataSource.register(TextConvertDataSource)
    reader = (spark.read.format(CONVERT_FORMAT).options(**read_options)
              .option(FORMAT_OPTION, format_name).option(TARGET_OPTION, target_to_json(target)))
    return [WrittenFile(*row) for row in reader.load().collect()]


class TextConvertPartition(InputPartition):
    """One of the format's partitions and its index (which names its files)."""

    def __init__(self, partition: TextInputPartition, index: int):
        super().__init__(index)
        self.partition, self.index = partition, index


class TextConvertDataSource(DataSource):
    """Rows are the files each partition wrote (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CONVERT_FORMAT

    def schema(self):
        return FILES_SCHEMA

    def reader(self, schema) -> "TextConvertReader":
        return TextConvertReader(self.options)


class TextConvertReader(DataSourceReader):
    def __init__(self, options):
        lowered = {key.lower(): value for key, value in options.items()}
        self.format_name = lowered[FORMAT_OPTION.lower()]
        self.target = target_from_json(lowered[TARGET_OPTION.lower()])
        read_options = {key: value for key, value in options.items()
                        if key.lower() not in (FORMAT_OPTION.lower(), TARGET_OPTION.lower())}
        self.text = TextReader(self.format_name, _source(self.format_name, read_options)._setup())

    def partitions(self) -> List[InputPartition]:
        found = [partition for partition in self.text.partitions() if isinstance(partition, TextInputPartition)]
        return [TextConvertPartition(partition, index) for index, partition in enumerate(found)] \
            or [InputPartition(None)]  # Spark wants at least one

    def read(self, partition) -> Iterator:
        if not isinstance(partition, TextConvertPartition):
            return
        text = self.text
        batches = read_text_batches(self.format_name, partition.partition, text.options, text.arrow_schema)
        for file in write_task(batches, text.arrow_schema, self.target, partition.index):
            yield (file.staged, file.final, file.partition_value, file.rows, file.size, file.stats)
