"""``df.write.format("bam")``: the Python data source writer (Spark >= 4).

Each task writes its partition (Arrow batches in) as a part named by its task attempt id
and returns a summary; the commit, on the Spark driver, assembles the committed parts into
one BAM with its ``.bai``/``.csi`` and ``.sbi``, or keeps them as shards (pyspark-free code
in :mod:`sparkbam_py.write`).  The commit runs where the driver runs, so this works under
Spark Connect as in classic Spark.  :func:`sparkbam_py.write_bam` adds the reference check
before any task runs and ``sort=True``.

Options: ``header`` (SAM header text) or ``headerFrom`` (a BAM path), ``sharded``,
``index`` (default true), ``compressionLevel`` (0..9, default 6), ``deflate`` (``isal`` or
``zlib``), ``sbiGranularity`` (default 4096).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

from pyspark.sql.datasource import DataSourceArrowWriter, WriterCommitMessage

from ..errors import ConfigError
from ..write.commit import abort, commit
from ..write.header import WriteHeader, resolve_header
from ..write.job import WriteJob
from ..write.part import PartSummary
from ..write.records import check_record_columns
from .datasource import BamDataSource, BamPushdownDataSource
from .plan import parse_bool

HEADER_OPTION = "header"  # SAM header text
HEADER_FROM_OPTION = "headerfrom"  # a BAM whose header to use
RESOLVED_HEADER_OPTION = "sparkbamheader"  # JSON text, names, lengths (set by write_bam)
SORTED_OUTPUT_OPTION = "sparkbamsorted"  # write_bam sorted the rows: parts out of order fail the commit


def _lowered(options) -> dict:
    return {key.lower(): value for key, value in options.items()}


def header_of_options(options: dict) -> WriteHeader:
    if RESOLVED_HEADER_OPTION in options:
        data = json.loads(options[RESOLVED_HEADER_OPTION])
        return WriteHeader(data["text"], tuple(data["names"]), tuple(data["lengths"]))
    return resolve_header(options.get(HEADER_OPTION), options.get(HEADER_FROM_OPTION))


def job_of_options(options, overwrite: bool) -> WriteJob:
    """A :class:`WriteJob` from data source options (keys case-insensitive)."""
    options = _lowered(options)
    if "path" not in options:
        raise ConfigError("df.write.format('bam') needs a path: .save(path)")
    if parse_bool("sort", options.get("sort", "false")):
        raise ConfigError("the bam writer cannot reorder rows itself: use sparkbam_py.write_bam(df, path, "
                          "sort=True), or sort the DataFrame and give a header with SO:coordinate")
    return WriteJob.create(
        options["path"], header_of_options(options), overwrite=overwrite,
        sharded=parse_bool("sharded", options.get("sharded", "false")),
        index=parse_bool("index", options.get("index", "true")),
        level=options.get("compressionlevel"), backend=options.get("deflate", ""),
        sbi_granularity=options.get("sbigranularity"),
        sorted_output=parse_bool(SORTED_OUTPUT_OPTION, options.get(SORTED_OUTPUT_OPTION, "false")))


def task_identity() -> tuple:
    """``(partition id, task attempt id)`` of the running Spark task."""
    from pyspark import TaskContext

    context = TaskContext.get()
    if context is None:
        raise ConfigError("write_part must run inside a Spark task")
    return context.partitionId(), context.taskAttemptId()


@dataclass
class PartMessage(WriterCommitMessage):
    summary: PartSummary


class BamArrowWriter(DataSourceArrowWriter):
    """The data source writer: a part per task, the commit on the driver."""

    def __init__(self, options, overwrite: bool):
        self.job = job_of_options(options, overwrite)

    def write(self, iterator: Iterator) -> PartMessage:
        partition, attempt = task_identity()
        return PartMessage(self.job.write_part(iterator, partition, attempt))

    def commit(self, messages) -> None:
        commit(self.job, [None if m is None else m.summary for m in messages])

    def abort(self, messages) -> None:
        abort(self.job)


class _Writable:
    """Adds the writer to a reading ``bam`` data source."""

    def writer(self, schema, overwrite: bool) -> BamArrowWriter:
        check_record_columns(schema.fieldNames())
        return BamArrowWriter(self.options, overwrite)


class WritableBamDataSource(_Writable, BamDataSource):
    """``format("bam")``: reads, and writes."""


class WritableBamPushdownDataSource(_Writable, BamPushdownDataSource):
    """``format("bam")`` with filter pushdown: reads, and writes."""


def with_writer(source_class):
    """The writing variant of a reading ``bam`` data source class."""
    return WritableBamPushdownDataSource if issubclass(source_class, BamPushdownDataSource) else WritableBamDataSource
