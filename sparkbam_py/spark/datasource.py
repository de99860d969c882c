"""``spark.read.format("bam")``: a Python Data Source (Spark >= 4.0) yielding Arrow batches.

``partitions()`` runs on the driver (on the server under Spark Connect): it lists the
files, reads each header, and cuts byte ranges.  ``read()`` runs on the executors: each
partition finds its own first record, decodes its records, and checks its boundary.

``format("bam_splits")`` reads the same partitions but returns one row per partition
(its range, first record and, with ``count``, how many records it owns); ``count_reads``
and ``compute_splits`` are built on it, so they work under Spark Connect too.
"""
from __future__ import annotations

from typing import Iterator

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..bam.file import open_bam
from ..channel.storage import iterate_with_storage, split_storage_options, storage_options_applied
from ..errors import ConfigError
from ..index.csi import find_index_path
from ..intervals import IntervalPartition, plan_interval_partitions, read_interval_partition
from ..intervals.filters import regions_from_filters, split_intervals
from ..splits import SplitTask
from .executor import SPARK_BATCH_CHUNK_BYTES, read_record_batches, split_row
from .plan import ColumnPlan, ReadOptions, parse_bool, paths_from_options, plan_reads, tag_spec_option

FORMAT = "bam"
SPLITS_FORMAT = "bam_splits"
COUNT_OPTION = "count"
# Samtools region strings ("chr1:1,000-2,000,chr2,*"): read through the BAI/CSI instead.
INTERVALS_OPTION = "intervals"
# Off by default in pyspark 4.x; while off, a reader that defines pushFilters fails to read.
PUSHDOWN_CONF = "spark.sql.python.filterPushdown.enabled"
# One row per partition of format("bam_splits"); positions are 64-bit virtual offsets.
SPLITS_SCHEMA = (
    "path string NOT NULL, range_start bigint NOT NULL, range_end bigint NOT NULL, "
    "first_record bigint, records bigint"
)


class SplitPartition(InputPartition):
    """One byte range of one file: what Spark ships to the executor that reads it."""

    def __init__(self, task: SplitTask):
        super().__init__(task.range)
        self.task = task


class IntervalInputPartition(InputPartition):
    """One planned group of index chunks (see ``sparkbam_py.intervals``)."""

    def __init__(self, interval: IntervalPartition):
        super().__init__(interval.path)
        self.interval = interval


def _partitions(options) -> list:
    tasks = plan_reads(paths_from_options(options), ReadOptions.from_options(options, extra=(COUNT_OPTION,)))
    return [SplitPartition(task) for task in tasks]


def _interval_partitions(options, regions) -> list:
    read_options = ReadOptions.from_options(options, extra=(INTERVALS_OPTION,))
    partitions = [IntervalInputPartition(planned) for path in paths_from_options(options)
                  for planned in plan_interval_partitions(path, regions, read_options.split_size,
                                                          verify_checksums=read_options.config.verify_checksums)]
    # Spark wants at least one partition; an empty one reads nothing.
    return partitions or [InputPartition(None)]


class BamDataSource(DataSource):
    """Reads BAM records; the default schema is pysam's field names (see ``bam.schema``).

    Options: ``splitSize`` (bytes or ``"64m"``), ``readsToCheck``, ``maxReadSize``,
    ``bgzfBlocksToCheck``, ``verifySplits``, ``verifyChecksums`` (BGZF CRC32s, default true); ``intervals`` (samtools regions, comma-separated)
    reads only the reads overlapping them, through the BAI/CSI beside each BAM.  A narrower ``.schema(...)`` decodes only
    those columns; ``file_position`` (bigint) and ``file_path`` (string) may be added.
    Credentials and endpoints of fsspec stores: ``storage.<name>``, ``storageOptions`` (JSON)
    or Hadoop's ``fs.s3a.*`` names (see :mod:`sparkbam_py.channel.storage`).
    """

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self):
        return ColumnPlan.of(tags=tag_spec_option(self.options)).spark_schema()

    def reader(self, schema) -> "BamReader":
        return BamReader(self.options, ColumnPlan.from_spark_schema(schema, tag_spec_option(self.options)))


class BamReader(DataSourceReader):
    def __init__(self, options, plan: ColumnPlan):
        options, self.storage = split_storage_options(options)
        ReadOptions.from_options(options, extra=(INTERVALS_OPTION,))  # fail on the driver, not in every task
        self.options = {key: value for key, value in options.items() if key.lower() != INTERVALS_OPTION}
        intervals = next((value for key, value in options.items() if key.lower() == INTERVALS_OPTION), None)
        self.regions = None if intervals is None else split_intervals(intervals)
        self.plan = plan

    def partitions(self):
        with storage_options_applied(self.storage, _given_paths(self.options)):
            if self.regions is not None:
                if self.plan.with_record:
                    raise ConfigError("the record column cannot be read through intervals; filter the rows instead")
                return _interval_partitions(self.options, self.regions)
            return _partitions(self.options)

    def read(self, partition) -> Iterator:
        if isinstance(partition, IntervalInputPartition):
            plan = self.plan
            batches = read_interval_partition(partition.interval, plan.record_columns, plan.with_file_position,
                                              typed_tags=plan.tag_spec)
            arranged = (plan.arrange(batch, partition.interval.path) for batch in batches)
            return iterate_with_storage(self.storage, [partition.interval.path], arranged)
        if isinstance(partition, SplitPartition):
            return iterate_with_storage(self.storage, [partition.task.path],
                                        read_record_batches(partition.task, self.plan, SPARK_BATCH_CHUNK_BYTES))
        return iter(())


class BamPushdownReader(BamReader):
    """A BamReader that reads only the index regions filters on ``reference_name`` and
    ``reference_start`` allow (one local, indexed BAM; otherwise it reads everything)."""

    def pushFilters(self, filters):
        filters = list(filters)
        if self.regions is None and not self.plan.with_record:  # records come from byte ranges only
            self.regions = _regions_for(self.options, filters)
        # The regions select a superset of the matching reads: Spark still applies every filter.
        return filters


def _given_paths(options) -> list:
    """The paths as given to ``load`` (before any glob is listed): their URL schemes say
    which stores the storage options are for."""
    import json

    given = {key.lower(): value for key, value in options.items()}
    if "paths" in given:
        return list(json.loads(given["paths"]))
    return [given["path"]] if "path" in given else []


def _regions_for(options, filters):
    paths = paths_from_options(options)
    if len(paths) != 1 or find_index_path(paths[0]) is None:
        return None
    with open_bam(paths[0]) as bam:
        return regions_from_filters(filters, bam.header)


class BamPushdownDataSource(BamDataSource):
    """``format("bam")`` with filter pushdown (registered by ``register(spark, pushdown=True)``)."""

    def reader(self, schema) -> "BamPushdownReader":
        return BamPushdownReader(self.options, ColumnPlan.from_spark_schema(schema, tag_spec_option(self.options)))


class BamSplitsDataSource(DataSource):
    """One row per partition: ``path, range_start, range_end, first_record, records``.

    ``records`` is filled when the ``count`` option is true (a chain walk, nothing decoded).
    """

    @classmethod
    def name(cls) -> str:
        return SPLITS_FORMAT

    def schema(self):
        return SPLITS_SCHEMA

    def reader(self, schema) -> "BamSplitsReader":
        return BamSplitsReader(self.options)


class BamSplitsReader(DataSourceReader):
    def __init__(self, options):
        options, self.storage = split_storage_options(options)
        ReadOptions.from_options(options, extra=(COUNT_OPTION,))
        self.options = dict(options)
        lowered = {key.lower(): value for key, value in self.options.items()}
        self.count = parse_bool(COUNT_OPTION, lowered.get(COUNT_OPTION, "false"))

    def partitions(self):
        with storage_options_applied(self.storage, _given_paths(self.options)):
            return _partitions(self.options)

    def read(self, partition: SplitPartition) -> Iterator:
        with storage_options_applied(self.storage, [partition.task.path]):
            yield split_row(partition.task, self.count)


def register(spark, pushdown: bool = False) -> None:
    """Make ``spark.read.format("bam")`` and ``format("bam_splits")`` available in ``spark``.

    With ``pushdown``, filters on ``reference_name``/``reference_start`` read only the index
    regions they allow; this turns on ``spark.sql.python.filterPushdown.enabled`` for the session.
    """
    if pushdown:
        spark.conf.set(PUSHDOWN_CONF, "true")
    # The "bam" source writes too (df.write.format("bam"), spark/bam_writer.py).
    from .bam_writer import with_writer
    from .cram_source import register_cram
    from .text_source import register_text_sources

    spark.dataSource.register(with_writer(BamPushdownDataSource if pushdown else BamDataSource))
    spark.dataSource.register(BamSplitsDataSource)
    register_cram(spark)  # format("cram") and format("cram_splits")
    register_text_sources(spark, pushdown)  # bgzf_text, vcf, bed, gff, tabix
