"""What a format is to the rest of the library: the one interface every entry point calls.

A :class:`Format` knows its file's magic (``sniff``), opens a read of some of its files
(``open_read``: options checked, columns fixed) and, where it can, a write.  A
:class:`FormatRead` plans the read into split tasks on the driver and reads one task into
Arrow wherever the task runs (a Spark executor, a local worker process, this process): the
same two calls for every format, so Spark's data sources, ``read_table`` and the CLI hold no
per-format code.  Tasks pickle; reads pickle too (they travel inside Spark closures).

Options are a data source's string options (``splitSize``, ``verifySplits``...; keys are
case-insensitive, Spark lower-cases them) with the files as ``load()`` passes them: ``path``,
or ``paths`` as a JSON list.  Python loaders turn their keywords into the same options
(:func:`sparkbam_py.formats.options.options_of`), so both ways in are checked by one parser.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Mapping, Optional, Protocol, Sequence, Tuple, Union, runtime_checkable

import pyarrow as pa

from ..pos import Pos
from .sniff import Head

# Which columns a read produces: None (the format's default), names, or an exact Arrow
# schema (a Spark user's ``.schema(...)``, converted by the Spark layer).
Columns = Union[None, Sequence[str], pa.Schema]
# One row per split task: (path, range_start, range_end, first unit's start, records); the
# start is the format's int for a position (``Format.split_start`` reads it); records only
# when counted.
SplitRow = Tuple[str, int, int, Optional[int], Optional[int]]


class FormatRead(Protocol):
    """One planned read: some files of one format, options checked, columns fixed."""

    arrow_schema: pa.Schema

    def tasks(self) -> List[Any]:
        """The split tasks in file order, planned on the driver (headers read, ranges cut)."""

    def read(self, task: Any, batch_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
        """One task's records as Arrow batches of exactly ``arrow_schema``; each task finds its
        own first unit and checks that it ends where its neighbour begins.  ``batch_bytes``
        hints the inflated bytes per batch (None: the format's default)."""

    def count(self, task: Any) -> int:
        """How many records the task owns, decoding as little as the format allows."""


@runtime_checkable
class SplitRows(Protocol):
    """A read whose tasks report where they start (``compute_splits``, ``count_reads``)."""

    def split_row(self, task: Any, count: bool) -> SplitRow:
        """The task's :data:`SplitRow`; ``records`` only when ``count``."""


@runtime_checkable
class FilterPushdown(Protocol):
    """A read that can narrow itself to what Spark filters allow (through an index)."""

    def push_filters(self, filters: Sequence[Any]) -> None:
        """Read only what ``filters`` may keep; Spark still applies every filter after."""


class FormatWrite(Protocol):
    """One write job: a part per task, then one commit (or abort) on the driver."""

    def write_part(self, batches: Iterator[pa.RecordBatch], partition: int, attempt: int) -> Any:
        """Write one task's rows; returns a small picklable summary for the commit."""

    def commit(self, summaries: Sequence[Optional[Any]]) -> None:
        """Assemble the committed parts (None: a task that wrote nothing)."""

    def abort(self) -> None:
        """Remove whatever the job staged."""


class Format(Protocol):
    """One file format, found by :func:`~sparkbam_py.formats.registry.sniff_format`."""

    name: str                      # the registry key and the Spark data source: format("bam")
    title: str                     # how messages name it: "BAM", "VCF", "tabix-indexed text"
    records: str                   # what its records are, plural: "reads", "variants", "lines"
    suffixes: Tuple[str, ...]      # names a directory or glob contributes (lower case)
    options: Tuple[str, ...]       # the data source options it takes (camelCase; besides path)
    unit: str                      # what a split starts on: "record", "container", "line"
    split_rows: bool               # whether its reads are :class:`SplitRows` (``<name>_splits``)
    writes: bool                   # whether ``open_write`` works

    def sniff(self, head: Head) -> bool:
        """Whether a file starting with ``head`` is of this format (magic first, name as a hint)."""

    def open_read(self, options: Mapping[str, str], columns: Columns = None) -> FormatRead:
        """A read of the files ``options`` name; a bad option or column fails here."""

    def split_start(self, value: Optional[int]) -> Optional[Pos]:
        """A :data:`SplitRow`'s start as a position (None: the task owns no unit)."""

    def open_write(self, options: Mapping[str, str], overwrite: bool) -> FormatWrite:
        """A write job to ``options["path"]``; UnsupportedFormatError where ``writes`` is False."""
