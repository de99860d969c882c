"""BAM as a format: BGZF whose data starts ``BAM\\1`` (SAMv1 §4.2), split by record starts.

A read plans byte ranges (or exact splits from a ``.sbi``; or, with ``intervals``, index
chunks through the BAI/CSI), and each task finds its first record, decodes to its range's
end and checks its boundary (:mod:`sparkbam_py.bam.splits`).  Credentials of fsspec stores
ride along as ``storage.*`` options (:mod:`sparkbam_py.channel.storage`).  BAM also writes:
parts encoded by each task, one BAM with its indexes committed on the driver.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, List, Mapping, Optional, Sequence

import pyarrow as pa

from ..bam.batches import read_record_batches, split_row
from ..bam.columns import ColumnPlan
from ..bam.file import open_bam
from ..bam.options import OPTION_NAMES, ReadOptions
from ..bam.splits import SplitTask, plan_file
from ..bam.typed_tags import TYPED_TAGS, TagSpec, resolve_tag_spec
from ..channel.storage import iterate_with_storage, split_storage_options, storage_options_applied
from ..config import parse_bool
from ..errors import ConfigError
from ..index.csi import find_index_path
from ..intervals import IntervalPartition, plan_interval_partitions, read_interval_partition
from ..intervals.filters import regions_from_filters, split_intervals
from ..pos import Pos
from ..write.commit import abort, commit
from ..write.header import WriteHeader, resolve_header
from ..write.job import WriteJob
from .paths import PathsArgument, expand_paths, given_paths, paths_from_options
from .protocol import Columns, SplitRow
from .sniff import BGZF, Head

BAM_MAGIC = b"BAM\x01"  # SAMv1 §4.2
# Samtools region strings ("chr1:1,000-2,000,chr2,*"): read through the BAI/CSI instead.
INTERVALS_OPTION = "intervals"
# option("tags", "NM:i,MD:Z") or "auto[:N]": a typed_tags struct column (see bam.typed_tags).
TAGS_OPTION = "tags"
# Headers are read on the driver with this many threads (remote stores answer slowly).
HEADER_READ_THREADS = 16


def plan_reads(paths: PathsArgument, options: ReadOptions) -> List[SplitTask]:
    """Every file's tasks, in file order; headers are read in parallel (and checked here,
    so a file that is not BAM fails before any executor starts)."""
    files = expand_paths(paths)

    def plan(path: str) -> List[SplitTask]:
        return plan_file(path, options.split_size, options.use_splitting_index,
                         config=options.config, verify=options.verify)[1]

    with ThreadPoolExecutor(max_workers=min(HEADER_READ_THREADS, len(files))) as pool:
        return [task for tasks in pool.map(plan, files) for task in tasks]


def tag_spec_option(options: Mapping[str, str]) -> Optional[TagSpec]:
    """The ``tags`` option's declared (or discovered) typed tags; None without the option."""
    given = {key.lower(): value for key, value in options.items()}
    if TAGS_OPTION not in given:
        return None
    text = given[TAGS_OPTION]
    first = None
    if str(text).strip().lower().startswith("auto"):
        first = next(iter(paths_from_options(options, BAM.name)), None)
    return resolve_tag_spec(text, first)


def column_plan(columns: Columns, tags: Optional[TagSpec] = None) -> ColumnPlan:
    """The plan of ``columns``: default, names, or an exact Arrow schema.  Names given with
    the ``tags`` option get the ``typed_tags`` column too."""
    if isinstance(columns, pa.Schema):
        return ColumnPlan.from_arrow_schema(columns, tags)
    if tags is not None and columns is not None and TYPED_TAGS not in columns:
        columns = list(columns) + [TYPED_TAGS]
    return ColumnPlan.of(columns, tags=tags)


class BamRead:
    """A read of BAM files: byte-range tasks, or index chunks with ``intervals``."""

    def __init__(self, options: Mapping[str, str], columns: Columns = None):
        options, self.storage = split_storage_options(options)
        given = {key.lower(): value for key, value in options.items()}
        self.options = ReadOptions.from_options(options, extra=(INTERVALS_OPTION,))
        self.given = {key: value for key, value in options.items() if key.lower() != INTERVALS_OPTION}
        self.regions = split_intervals(given[INTERVALS_OPTION]) if INTERVALS_OPTION in given else None
        self.plan = column_plan(columns, tag_spec_option(options))
        self.arrow_schema = self.plan.arrow_schema

    def paths(self) -> List[str]:
        return paths_from_options(self.given, BAM.name)

    def tasks(self) -> List[Any]:
        with storage_options_applied(self.storage, given_paths(self.given)):
            if self.regions is None:
                return plan_reads(self.paths(), self.options)
            if self.plan.with_record:
                raise ConfigError("the record column cannot be read through intervals; filter the rows instead")
            split_size, checksums = self.options.split_size, self.options.config.verify_checksums
            return [planned for path in self.paths()
                    for planned in plan_interval_partitions(path, self.regions, split_size, verify_checksums=checksums)]

    def read(self, task: Any, batch_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
        if isinstance(task, IntervalPartition):
            plan = self.plan
            batches = read_interval_partition(task, plan.record_columns, plan.with_file_position,
                                              typed_tags=plan.tag_spec)
            return iterate_with_storage(self.storage, [task.path], (plan.arrange(b, task.path) for b in batches))
        return iterate_with_storage(self.storage, [task.path], read_record_batches(task, self.plan, batch_bytes))

    def count(self, task: Any) -> int:
        if isinstance(task, IntervalPartition):
            return sum(batch.num_rows for batch in self.read(task))
        return self.split_row(task, True)[4]

    def split_row(self, task: Any, count: bool) -> SplitRow:
        if isinstance(task, IntervalPartition):
            raise ConfigError("a read of intervals has index chunks, not byte-range splits", task.path)
        with storage_options_applied(self.storage, [task.path]):
            return split_row(task, count)

    def push_filters(self, filters: Sequence[Any]) -> None:
        """Regions from filters on ``reference_name``/``reference_start`` (one indexed BAM)."""
        if self.regions is not None or self.plan.with_record:  # records come from byte ranges only
            return
        paths = self.paths()
        if len(paths) != 1 or find_index_path(paths[0]) is None:
            return
        with open_bam(paths[0]) as bam:
            self.regions = regions_from_filters(filters, bam.header)


# -- writing ---------------------------------------------------------------------------------

HEADER_OPTION = "header"  # SAM header text
HEADER_FROM_OPTION = "headerfrom"  # a BAM whose header to use
RESOLVED_HEADER_OPTION = "sparkbamheader"  # JSON text, names, lengths (set by write_bam)
SORTED_OUTPUT_OPTION = "sparkbamsorted"  # write_bam sorted the rows: parts out of order fail the commit


def header_of_options(options: Mapping[str, str]) -> WriteHeader:
    if RESOLVED_HEADER_OPTION in options:
        data = json.loads(options[RESOLVED_HEADER_OPTION])
        return WriteHeader(data["text"], tuple(data["names"]), tuple(data["lengths"]))
    return resolve_header(options.get(HEADER_OPTION), options.get(HEADER_FROM_OPTION))


def job_of_options(options: Mapping[str, str], overwrite: bool) -> WriteJob:
    """A :class:`WriteJob` from data source options (keys case-insensitive)."""
    options = {key.lower(): value for key, value in options.items()}
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


class BamWrite:
    """One BAM write: parts encoded by the tasks, one BAM (or shards) committed on the driver."""

    def __init__(self, job: WriteJob):
        self.job = job

    def write_part(self, batches: Iterator[pa.RecordBatch], partition: int, attempt: int) -> Any:
        return self.job.write_part(batches, partition, attempt)

    def commit(self, summaries: Sequence[Optional[Any]]) -> dict:
        return commit(self.job, summaries)

    def abort(self) -> None:
        abort(self.job)


class BamFormat:
    """BAM: sniffed by BGZF holding ``BAM\\1``; reads, counts, splits and writes."""

    name = "bam"
    title = "BAM"
    records = "reads"
    suffixes = (".bam",)
    options = OPTION_NAMES + (INTERVALS_OPTION, TAGS_OPTION)
    unit = "record"
    split_rows = True  # starts as 64-bit virtual offsets
    writes = True

    def sniff(self, head: Head) -> bool:
        return head.compression == BGZF and head.data.startswith(BAM_MAGIC)

    def open_read(self, options: Mapping[str, str], columns: Columns = None) -> BamRead:
        return BamRead(options, columns)

    def split_start(self, value: Optional[int]) -> Optional[Pos]:
        return None if value is None else Pos.from_virtual(value)

    def open_write(self, options: Mapping[str, str], overwrite: bool) -> BamWrite:
        return BamWrite(job_of_options(options, overwrite))


BAM = BamFormat()
