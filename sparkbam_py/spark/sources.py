"""``spark.read.format(name)`` for every registered format: Python data sources (Spark >= 4)
yielding Arrow batches, built from the format objects of :mod:`sparkbam_py.formats`.

``partitions()`` runs on the driver (on the server under Spark Connect): the format's read
plans its tasks.  ``read()`` runs on the executors: the format reads one task into Arrow.
Formats whose tasks report where they start also get ``format(name + "_splits")``: one row
per partition (its range, first unit and, with ``count``, how many records it owns), which
``count_reads``/``compute_splits`` use under Spark Connect.  Formats that write get
``df.write.format(name)``: a part per task, one commit on the driver (so it works under
Spark Connect as in classic Spark).  Options are the format's (see its module).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator

from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)

from ..config import parse_bool
from ..formats import FORMATS, FilterPushdown, Format, FormatRead
from .schemas import arrow_of, spark_of
from .source_names import COUNT_OPTION, PUSHDOWN_CONF, SPARK_BATCH_BYTES, SPLITS_SUFFIX
from .tasks import task_identity


class TaskPartition(InputPartition):
    """One planned task of a format's read: what Spark ships to the executor that reads it."""

    def __init__(self, index: int, task: Any):
        super().__init__(index)
        self.task = task


def partitions_of(read: FormatRead) -> list:
    # Spark wants at least one partition; an empty one reads nothing.
    return [TaskPartition(index, task) for index, task in enumerate(read.tasks())] or [InputPartition(None)]


class FormatReader(DataSourceReader):
    def __init__(self, read: FormatRead):
        self.format_read = read  # options and columns checked on the driver, not in every task

    def partitions(self):
        return partitions_of(self.format_read)

    def read(self, partition) -> Iterator:
        if isinstance(partition, TaskPartition):
            return self.format_read.read(partition.task, SPARK_BATCH_BYTES)
        return iter(())


class PushdownReader(FormatReader):
    """Narrows the read to what filters allow, where the format can (through an index)."""

    def pushFilters(self, filters):
        filters = list(filters)
        if isinstance(self.format_read, FilterPushdown):
            self.format_read.push_filters(filters)
        # What the format reads is a superset of the matching records: Spark applies every filter.
        return filters


class FormatSource(DataSource):
    """Base of the data sources; each subclass names one format of the registry."""

    format: Format
    reader_class = FormatReader

    @classmethod
    def name(cls) -> str:
        return cls.format.name

    def schema(self):
        return spark_of(self.format.open_read(self.options).arrow_schema)

    def reader(self, schema) -> FormatReader:
        return self.reader_class(self.format.open_read(self.options, arrow_of(schema)))


# -- one row per partition ------------------------------------------------------------------


class SplitsReader(DataSourceReader):
    def __init__(self, source_format: Format, options):
        given = {key.lower(): value for key, value in options.items()}
        self.count = parse_bool(COUNT_OPTION, given.get(COUNT_OPTION, "false"))
        self.format_read = source_format.open_read({k: v for k, v in options.items() if k.lower() != COUNT_OPTION})

    def partitions(self):
        return partitions_of(self.format_read)

    def read(self, partition) -> Iterator:
        if isinstance(partition, TaskPartition):
            yield self.format_read.split_row(partition.task, self.count)


class SplitsSource(DataSource):
    """One row per partition: ``path, range_start, range_end, <first unit>, records``."""

    format: Format

    @classmethod
    def name(cls) -> str:
        return cls.format.name + SPLITS_SUFFIX

    def schema(self):
        return (f"path string NOT NULL, range_start bigint NOT NULL, range_end bigint NOT NULL, "
                f"first_{self.format.unit} bigint, records bigint")

    def reader(self, schema) -> SplitsReader:
        return SplitsReader(self.format, self.options)


# -- writing --------------------------------------------------------------------------------


@dataclass
class PartMessage(WriterCommitMessage):
    summary: Any


class FormatWriter(DataSourceArrowWriter):
    """A part per task (named by its attempt), the commit on the driver."""

    def __init__(self, source_format: Format, options, overwrite: bool):
        self.job = source_format.open_write(options, overwrite)

    def write(self, iterator: Iterator) -> PartMessage:
        partition, attempt = task_identity()
        return PartMessage(self.job.write_part(iterator, partition, attempt))

    def commit(self, messages) -> None:
        self.job.commit([None if message is None else message.summary for message in messages])

    def abort(self, messages) -> None:
        self.job.abort()


class _Writable:
    def writer(self, schema, overwrite: bool) -> FormatWriter:
        return FormatWriter(self.format, self.options, overwrite)


# -- the classes, one set per format ----------------------------------------------------------


def _class_name(source_format: Format, kind: str) -> str:
    return "".join(word.capitalize() for word in source_format.name.split("_")) + kind + "DataSource"


def _make(source_format: Format, kind: str, bases: tuple, **members) -> type:
    name = _class_name(source_format, kind)
    made = type(name, bases, {"format": source_format, "__module__": __name__, "__qualname__": name,
                              "__doc__": f"``spark.read.format({source_format.name!r})`` (see the module doc).",
                              **members})
    globals()[name] = made  # importable by name, so Spark's pickles refer to it
    return made


def _sources(pushdown: bool) -> Dict[str, type]:
    kind, members = ("Pushdown", {"reader_class": PushdownReader}) if pushdown else ("", {})
    return {known.name: _make(known, kind, ((_Writable,) if known.writes else ()) + (FormatSource,), **members)
            for known in FORMATS}


SOURCES = _sources(pushdown=False)
PUSHDOWN_SOURCES = _sources(pushdown=True)
SPLITS_SOURCES = {known.name: _make(known, "Splits", (SplitsSource,)) for known in FORMATS
                  if known.split_rows}


def register(spark, pushdown: bool = False) -> None:
    """Make every format's data source (and ``<name>_splits`` where there is one) available in
    ``spark``.  With ``pushdown``, filters on a format's contig and start columns read only the
    index regions they allow; this turns on ``spark.sql.python.filterPushdown.enabled``."""
    if pushdown:
        spark.conf.set(PUSHDOWN_CONF, "true")
    for source in (PUSHDOWN_SOURCES if pushdown else SOURCES).values():
        spark.dataSource.register(source)
    for source in SPLITS_SOURCES.values():
        spark.dataSource.register(source)
