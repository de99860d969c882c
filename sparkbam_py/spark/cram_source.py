"""``spark.read.format("cram")`` and ``format("cram_splits")``: CRAM on the same columns as BAM.

``partitions()`` (driver, or the Connect server) reads each CRAM's header and cuts byte
ranges, or takes exact splits from a current ``.crai``; ``read()`` (executors) finds the
range's first container, decodes its containers through htslib and checks the boundary
with the next range.  ``cram_splits`` gives one row per partition (``count`` adds the record
count from the container headers); ``count_reads``/``compute_splits`` use it under Connect.

Options: ``splitSize``, ``reference`` (FASTA path or URL), ``verifySplits``, ``useIndex``
(the ``.crai``; default true), ``containersToCheck`` (3), ``intervals`` (samtools regions,
through the ``.crai``).  ``file_position`` does not exist for CRAM (it is a BGZF virtual
offset); ``file_path`` may be added.
"""
from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..cram.plan import CramReadOptions, plan_cram_file, plan_cram_regions
from ..cram.reader import CramSplitReader, CramTask
from ..cram.search import CramSearchConfig
from ..errors import ConfigError
from ..intervals.filters import split_intervals
from .executor import read_cram_batches
from .paths import is_local_path
from .plan import ColumnPlan, parse_bool

FORMAT = "cram"
SPLITS_FORMAT = "cram_splits"
CRAM_SUFFIX = ".cram"
SPLITS_SCHEMA = ("path string NOT NULL, range_start bigint NOT NULL, range_end bigint NOT NULL, "
                 "first_container bigint, records bigint")
_OPTIONS = {"splitsize": "splitSize", "reference": "reference", "verifysplits": "verifySplits",
            "useindex": "useIndex", "containerstocheck": "containersToCheck", "intervals": "intervals",
            "count": "count", "path": "path", "paths": "paths"}


@dataclass(frozen=True)
class CramLoad:
    """A CRAM load's paths and settings, from data source options."""

    paths: Tuple[str, ...]
    options: CramReadOptions
    regions: Optional[Tuple[str, ...]]
    count: bool

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> "CramLoad":
        given = {key.lower(): value for key, value in options.items()}
        unknown = sorted(set(given) - set(_OPTIONS))
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)} for format('cram'); known: "
                              f"{', '.join(sorted(set(_OPTIONS.values()) - {'path', 'paths', 'count'}))}")
        checks = int(given.get("containerstocheck", CramSearchConfig().containers_to_check))
        if checks < 1:
            raise ConfigError(f"option containersToCheck must be at least 1, got {checks}")
        read = CramReadOptions(
            split_size=parse_size(given.get("splitsize", DEFAULT_SPLIT_SIZE)),
            search=CramSearchConfig(checks),
            reference=given.get("reference") or None,
            verify=parse_bool("verifySplits", given.get("verifysplits", "true")),
            use_index=parse_bool("useIndex", given.get("useindex", "true")),
        )
        regions = tuple(split_intervals(given["intervals"])) if "intervals" in given else None
        return cls(tuple(cram_paths(given)), read, regions, parse_bool("count", given.get("count", "false")))

    def tasks(self) -> List[CramTask]:
        planned = []
        for path in self.paths:
            if self.regions is None:
                planned.extend(plan_cram_file(path, self.options)[1])
            else:
                planned.extend(plan_cram_regions(path, self.regions, self.options)[1])
        return planned


def cram_paths(given: Dict[str, str]) -> List[str]:
    """The CRAM files named by ``load(path)`` or ``load([paths])``: files as given; local
    directories and globs contribute their ``*.cram`` files."""
    if "paths" in given:
        items = json.loads(given["paths"])
    elif "path" in given:
        items = [given["path"]]
    else:
        raise ConfigError("no path: use spark.read.format('cram').load(path_or_list)")
    found: List[str] = []
    for item in items:
        if is_local_path(item) and os.path.isdir(item):
            found.extend(sorted(glob.glob(os.path.join(item, "*" + CRAM_SUFFIX))))
        elif is_local_path(item) and any(ch in item for ch in "*?["):
            found.extend(sorted(path for path in glob.glob(item) if path.endswith(CRAM_SUFFIX)))
        else:
            found.append(item)
    if not found:
        raise ConfigError(f"no CRAM file in {items!r}")
    return list(dict.fromkeys(found))


class CramPartition(InputPartition):
    def __init__(self, task: CramTask):
        super().__init__(task.range)
        self.task = task


def _partitions(load: CramLoad) -> list:
    # Spark wants at least one partition; an empty one reads nothing.
    return [CramPartition(task) for task in load.tasks()] or [InputPartition(None)]


def cram_split_row(task: CramTask, count: bool) -> Tuple[str, int, int, Optional[int], Optional[int]]:
    """``(path, range_start, range_end, first container offset, records)`` of one task."""
    with CramSplitReader(task) as reader:
        first = reader.start
        records = reader.count() if count else None
    return task.path, task.range.start, task.range.end, None if first is None else first.block_pos, records


def cram_plan(schema) -> ColumnPlan:
    plan = ColumnPlan.from_spark_schema(schema)
    if plan.with_file_position:
        raise ConfigError("file_position is a BGZF virtual offset; CRAM records have none (use file_path)")
    return plan


class CramDataSource(DataSource):
    """Reads CRAM records into the BAM columns (pysam names; see ``bam.schema``)."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self):
        return ColumnPlan.of().spark_schema()

    def reader(self, schema) -> "CramReader":
        return CramReader(self.options, cram_plan(schema))


class CramReader(DataSourceReader):
    def __init__(self, options, plan: ColumnPlan):
        self.load = CramLoad.from_options(options)  # fail on the driver, not in every task
        self.plan = plan

    def partitions(self):
        return _partitions(self.load)

    def read(self, partition) -> Iterator:
        if isinstance(partition, CramPartition):
            return read_cram_batches(partition.task, self.plan)
        return iter(())


class CramSplitsDataSource(DataSource):
    """One row per partition: ``path, range_start, range_end, first_container, records``."""

    @classmethod
    def name(cls) -> str:
        return SPLITS_FORMAT

    def schema(self):
        return SPLITS_SCHEMA

    def reader(self, schema) -> "CramSplitsReader":
        return CramSplitsReader(self.options)


class CramSplitsReader(DataSourceReader):
    def __init__(self, options):
        self.load = CramLoad.from_options(options)

    def partitions(self):
        return _partitions(self.load)

    def read(self, partition) -> Iterator:
        if isinstance(partition, CramPartition):
            yield cram_split_row(partition.task, self.load.count)


def register_cram(spark) -> None:
    """Make ``format("cram")`` and ``format("cram_splits")`` available in ``spark``."""
    spark.dataSource.register(CramDataSource)
    spark.dataSource.register(CramSplitsDataSource)
