"""``sparkbam_convert``: the Python data source whose reads write Parquet files (see ``convert``).

Its partitions are the tasks of the source format's read (``sourceFormat``, a registry
name); each ``read()`` reads its task into Arrow, writes the Parquet files itself (pyarrow,
into the job's staging folder, under attempt-unique names) and yields one row per file written.
"""
from __future__ import annotations

import json
from typing import Iterator

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..convert.target import OutputTarget
from ..convert.writer import write_task
from ..formats import format_named
from .source_names import CONVERTED_FILES_SCHEMA

CONVERT_FORMAT = "sparkbam_convert"
SOURCE_FORMAT_OPTION = "sourceFormat"
TARGET_OPTION = "convertTarget"
COLUMNS_OPTION = "convertColumns"
_OWN_OPTIONS = tuple(name.lower() for name in (SOURCE_FORMAT_OPTION, TARGET_OPTION, COLUMNS_OPTION))


class ConvertPartition(InputPartition):
    """One split to convert, and its index (which names its files)."""

    def __init__(self, task, index: int):
        super().__init__(index)
        self.task = task
        self.index = index


class ConvertDataSource(DataSource):
    """Rows are the files each split wrote (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CONVERT_FORMAT

    def schema(self):
        return CONVERTED_FILES_SCHEMA

    def reader(self, schema) -> "ConvertReader":
        return ConvertReader(self.options)


class ConvertReader(DataSourceReader):
    def __init__(self, options):
        lowered = {key.lower(): value for key, value in options.items()}
        read_options = {key: value for key, value in options.items() if key.lower() not in _OWN_OPTIONS}
        source_format = format_named(lowered[SOURCE_FORMAT_OPTION.lower()])
        self.read_of_source = source_format.open_read(read_options, json.loads(lowered[COLUMNS_OPTION.lower()]))
        self.target = target_from_json(lowered[TARGET_OPTION.lower()])

    def partitions(self):
        return [ConvertPartition(task, index) for index, task in enumerate(self.read_of_source.tasks())]

    def read(self, partition: ConvertPartition) -> Iterator:
        source = self.read_of_source
        for file in write_task(source.read(partition.task), source.arrow_schema, self.target, partition.index):
            yield (file.staged, file.final, file.partition_value, file.rows, file.size, file.stats)


def target_to_json(target: OutputTarget) -> str:
    fields = dict(target.__dict__)
    fields["storage_options"] = [list(item) for item in target.storage_options]
    return json.dumps(fields)


def target_from_json(text: str) -> OutputTarget:
    fields = json.loads(text)
    fields["storage_options"] = tuple(tuple(item) for item in fields["storage_options"])
    return OutputTarget(**fields)
