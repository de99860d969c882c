"""The windows of ``map_regions`` (:func:`sparkbam_py.spark.map_regions.map_regions`, which
runs them): the per-chromosome multiprocessing recipe over a tabix file, done right.

The recipe people use opens ``pysam.TabixFile`` and maps a function over chromosome names
with ``multiprocessing`` (``multiple_iterators=True``).  Here the work is cut into windows
balanced by compressed bytes (a large contig spread over several windows; small contigs
sharing one), each task opens its own handles (nothing is shared with forked or spawned
workers), and the same windows run in local worker processes (``spawn``: safe everywhere) or
on Spark.  ``fn(window, rows)`` gets rows as ``pysam.TabixFile.fetch(..., parser=asTuple())``
yields them (:class:`TabixRow`: indexable fields, ``str`` the line), each record once, in
file order.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..config import parse_size
from .read import FileHeader, TextUnit, iter_unit_lines, plan_units, read_file_header, tabix_config

DEFAULT_WINDOW = "16m"


class Window(NamedTuple):
    """What one call of ``fn`` covers: the file, the window's number (file order), and the
    regions asked for (all of the file when None)."""

    path: str
    number: int
    regions: Optional[Tuple[str, ...]]


class WindowTask(NamedTuple):
    window: Window
    unit: TextUnit
    header: FileHeader


def plan_windows(path: str, regions: Union[None, str, Sequence[str]] = None,
                 window=DEFAULT_WINDOW) -> List[WindowTask]:
    """The windows of ``path``: byte ranges of the whole file, or index chunks of ``regions``."""
    config = tabix_config(path)
    header = read_file_header(path, (config.meta,) if config else ("#",), config.skip if config else 0)
    units = plan_units([path], parse_size(window), regions)
    asked = None if regions is None else tuple([regions] if isinstance(regions, str) else regions)
    return [WindowTask(Window(path, k, asked), unit, header) for k, unit in enumerate(units)]


class TabixRow:
    """One record as pysam's ``asTuple`` proxy behaves: ``row[i]``, ``len(row)``, iteration
    over the fields, ``str(row)`` the line.  Fields are split only as far as asked for (a
    VCF line with thousands of samples is not split to read its POS)."""

    __slots__ = ("line", "_fields", "_whole")

    def __init__(self, line: str):
        self.line = line
        self._fields: Tuple[str, ...] = ()
        self._whole = False

    def _split(self, upto: Optional[int]) -> Tuple[str, ...]:
        if self._whole or (upto is not None and upto < len(self._fields) - 1):
            return self._fields
        fields = self.line.split("\t") if upto is None else self.line.split("\t", upto + 1)
        self._whole = upto is None or len(fields) <= upto + 1
        self._fields = tuple(fields)
        return self._fields

    def __getitem__(self, index):
        if isinstance(index, int) and index >= 0:
            fields = self._split(index)
            if index < len(fields) - (0 if self._whole else 1):
                return fields[index]
        return self._split(None)[index]

    def __len__(self) -> int:
        return len(self._split(None))

    def __iter__(self):
        return iter(self._split(None))

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __str__(self) -> str:
        return self.line

    def __repr__(self) -> str:
        return f"TabixRow({self.line!r})"


def iter_rows(task: WindowTask) -> Iterator[TabixRow]:
    """The window's records as :class:`TabixRow` (pysam's ``asTuple`` rows)."""
    for _, lines in iter_unit_lines(task.unit, task.header):
        for line in lines.to_pylist():
            yield TabixRow(line)


def run_window(task: WindowTask, fn: Callable[[Window, Iterator[Tuple[str, ...]]], Any]) -> Any:
    """One window, inside whichever worker runs it."""
    return fn(task.window, iter_rows(task))
