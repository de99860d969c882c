"""CRAM as a format: files starting ``CRAM`` (CRAMv3 §6), split by containers, decoded
through htslib into BAM's columns (pysam names; see :mod:`sparkbam_py.bam.schema`).

A read cuts each CRAM into byte ranges whose executors find their first container, or
takes exact splits from a current ``.crai``; ``intervals`` reads only the containers the
``.crai`` names.  Options: ``splitSize``, ``reference`` (FASTA path or URL), ``verifySplits``,
``useIndex`` (default true), ``containersToCheck`` (3), ``intervals``.  ``file_position``
does not exist for CRAM (it is a BGZF virtual offset); ``file_path`` may be added.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Mapping, Optional, Tuple

import pyarrow as pa

from ..config import DEFAULT_SPLIT_SIZE, parse_bool, parse_size
from ..cram.plan import CRAM_MAGIC, CramReadOptions, plan_cram_file, plan_cram_regions
from ..cram.reader import CramSplitReader, CramTask
from ..cram.search import CramSearchConfig
from ..errors import ConfigError, UnsupportedFormatError
from ..intervals.filters import split_intervals
from ..pos import Pos
from .bam import column_plan
from .paths import paths_from_options
from .protocol import Columns, SplitRow
from .sniff import Head

OPTIONS = ("splitSize", "reference", "verifySplits", "useIndex", "containersToCheck", "intervals")
_KNOWN = {option.lower() for option in OPTIONS} | {"path", "paths"}


def read_options(given: Mapping[str, str]) -> CramReadOptions:
    """How the files are cut, searched, verified and decoded (option names lower-cased)."""
    checks = int(given.get("containerstocheck", CramSearchConfig().containers_to_check))
    if checks < 1:
        raise ConfigError(f"option containersToCheck must be at least 1, got {checks}")
    return CramReadOptions(
        split_size=parse_size(given.get("splitsize", DEFAULT_SPLIT_SIZE)),
        search=CramSearchConfig(checks),
        reference=given.get("reference") or None,
        verify=parse_bool("verifySplits", given.get("verifysplits", "true")),
        use_index=parse_bool("useIndex", given.get("useindex", "true")),
    )


class CramRead:
    """A read of CRAM files: its paths, settings and (with ``intervals``) regions."""

    def __init__(self, options: Mapping[str, str], columns: Columns = None):
        given = {key.lower(): value for key, value in options.items()}
        unknown = sorted(set(given) - _KNOWN)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)} for format('cram'); known: "
                              f"{', '.join(sorted(OPTIONS))}")
        self.options = read_options(given)
        self.regions: Optional[Tuple[str, ...]] = (tuple(split_intervals(given["intervals"]))
                                                   if "intervals" in given else None)
        self.paths = tuple(paths_from_options(options, CRAM.name, CRAM.suffixes, CRAM.title))
        self.plan = column_plan(columns)
        if self.plan.with_file_position:
            raise ConfigError("file_position is a BGZF virtual offset; CRAM records have none (use file_path)")
        self.arrow_schema = self.plan.arrow_schema

    def tasks(self) -> List[Any]:
        planned: List[CramTask] = []
        for path in self.paths:
            if self.regions is None:
                planned.extend(plan_cram_file(path, self.options)[1])
            else:
                planned.extend(plan_cram_regions(path, self.regions, self.options)[1])
        return planned

    def read(self, task: CramTask, batch_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
        with CramSplitReader(task) as reader:
            for batch in reader.iter_batches(self.plan.record_columns):
                yield self.plan.arrange(batch, task.path)

    def count(self, task: CramTask) -> int:
        return self.split_row(task, True)[4]

    def split_row(self, task: CramTask, count: bool) -> SplitRow:
        """The first container's byte offset; ``records`` from the container headers."""
        with CramSplitReader(task) as reader:
            first = reader.start
            records = reader.count() if count else None
        return task.path, task.range.start, task.range.end, None if first is None else first.block_pos, records


class CramFormat:
    """CRAM: sniffed by its magic; reads, counts and splits (htslib decodes the records)."""

    name = "cram"
    title = "CRAM"
    records = "reads"
    suffixes = (".cram",)
    options = OPTIONS
    unit = "container"
    split_rows = True  # starts as byte offsets
    writes = False

    def sniff(self, head: Head) -> bool:
        return head.raw.startswith(CRAM_MAGIC)

    def open_read(self, options: Mapping[str, str], columns: Columns = None) -> CramRead:
        return CramRead(options, columns)

    def split_start(self, value: Optional[int]) -> Optional[Pos]:
        return None if value is None else Pos(value, 0)

    def open_write(self, options: Mapping[str, str], overwrite: bool):
        raise UnsupportedFormatError("CRAM is read here, not written: write BAM (df.write.format('bam'))",
                                     options.get("path"), sniffed=self.name)


CRAM = CramFormat()
