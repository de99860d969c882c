"""``bam_convert``: the Python data source whose reads write Parquet files (see ``convert``).

Its partitions are the ``bam`` source's splits; each ``read()`` decodes its split into
Arrow, writes the Parquet files itself (pyarrow, into the job's staging folder, under
attempt-unique names) and yields one row per file written.
"""
from __future__ import annotations

import json
from typing import Iterator

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..convert.target import OutputTarget
from ..convert.writer import write_task
from .executor import read_record_batches
from .plan import ColumnPlan, ReadOptions, paths_from_options, plan_reads, tag_spec_option

CONVERT_FORMAT = "bam_convert"
TARGET_OPTION = "convertTarget"
COLUMNS_OPTION = "convertColumns"
FILES_SCHEMA = "staged string, final string, partition_value string, rows bigint, size bigint, stats string"


class ConvertPartition(InputPartition):
    """One split to convert, and its index (which names its files)."""

    def __init__(self, task, index: int):
        super().__init__(index)
        self.task = task
        self.index = index


class BamConvertDataSource(DataSource):
    """Rows are the files each split wrote (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CONVERT_FORMAT

    def schema(self):
        return FILES_SCHEMA

    def reader(self, schema) -> "BamConvertReader":
        return BamConvertReader(self.options)


class BamConvertReader(DataSourceReader):
    def __init__(self, options):
        lowered = {key.lower(): value for key, value in options.items()}
        self.options = {k: v for k, v in options.items() if k.lower() not in (TARGET_OPTION.lower(), COLUMNS_OPTION.lower())}
        ReadOptions.from_options(self.options)
        self.target = target_from_json(lowered[TARGET_OPTION.lower()])
        self.plan = ColumnPlan.of(json.loads(lowered[COLUMNS_OPTION.lower()]), tags=tag_spec_option(options))

    def partitions(self):
        tasks = plan_reads(paths_from_options(self.options), ReadOptions.from_options(self.options))
        return [ConvertPartition(task, index) for index, task in enumerate(tasks)]

    def read(self, partition: ConvertPartition) -> Iterator:
        batches = read_record_batches(partition.task, self.plan)
        for file in write_task(batches, self.plan.arrow_schema, self.target, partition.index):
            yield (file.staged, file.final, file.partition_value, file.rows, file.size, file.stats)


def target_to_json(target: OutputTarget) -> str:
    fields = dict(target.__dict__)
    fields["storage_options"] = [list(item) for item in target.storage_options]
    return json.dumps(fields)


def target_from_json(text: str) -> OutputTarget:
    fields = json.loads(text)
    fields["storage_options"] = tuple(tuple(item) for item in fields["storage_options"])
    return OutputTarget(**fields)
