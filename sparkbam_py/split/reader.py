"""The executor side of the protocol, for any format: first boundary, and the checks.

A format implements two questions about its file (the seam every format meets at):

* ``find_start(offset, stop)``: the first unit boundary owned by a range that begins at
  compressed byte ``offset``, or None when no unit owned by it starts before ``stop``;
* ``place(pos)``: a canonical name of ``pos`` for comparisons (BGZF has several names for
  one place beside empty blocks; see :mod:`.bgzf_positions`), None past the last unit.

and walks its units itself.  This base class then supplies the range's start (searched, or
given exactly by a splitting index) and the two verifications: after the walk, the position
where the last owned unit ends must be the start that the NEXT range's search finds; in
exact mode it must be the split's end.  A disagreement raises
:class:`~sparkbam_py.errors.SplitVerificationError` naming both positions, so a boundary
mistake becomes an error, never lost, invented or duplicated units.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

from ..errors import SplitVerificationError
from ..pos import Pos
from .ranges import Split


class Vocabulary(NamedTuple):
    """How error messages speak of a format's units (``records``/``reads`` for BAM)."""

    unit: str = "record"
    units: str = "records"
    items: str = "reads"


class RangeReader:
    """Base of one task's reader.  Subclasses set ``task`` (a :class:`~.task.RangeTask`
    with ``verify`` and ``exact``) and implement :meth:`find_start` and :meth:`place`."""

    words = Vocabulary()
    # The splitting index that exact splits come from, for messages.
    exact_index_name = "the splitting index (.sbi)"

    def __init__(self, task):
        self.task = task
        self._start: Optional[Tuple[Optional[Pos]]] = None

    def find_start(self, offset: int, stop: Optional[Pos] = None) -> Optional[Pos]:
        """The first boundary owned by a range beginning at ``offset`` (before ``stop``)."""
        raise NotImplementedError

    def place(self, pos: Pos) -> Optional[Pos]:
        """``pos``'s canonical name; None when no unit starts there (the end of the data)."""
        raise NotImplementedError

    @property
    def start(self) -> Optional[Pos]:
        """The range's first unit start; None when the range owns no unit."""
        if self._start is None:
            task = self.task
            if task.exact is not None:
                self._start = (task.exact.start,)
            else:
                self._start = (self.find_start(task.range.start, task.end_pos),)
        return self._start[0]

    def verify_boundary(self, landing: Pos) -> None:
        """Check that the next range starts where this range's last unit ends (``landing``)."""
        task, words = self.task, self.words
        expected = self.find_start(task.range.end)
        landed = self.place(landing)
        wanted = None if expected is None else self.place(expected)
        if landed == wanted:
            return
        what = f"the {words.units} of bytes {task.range.start}-{task.range.end} chain on to "
        what += f"{landing}" if landed is not None else f"the end of the data at {landing}"
        if expected is None:
            found = (f"the search for the next range's start finds no {words.unit} start "
                     f"(its {words.items} would be lost)")
        elif landed is None or wanted > landed:
            found = f"the next range's {words.unit}-start search finds {expected}; the {words.items} between would be lost"
        else:
            found = (f"the next range's {words.unit}-start search finds {expected}, inside this range's last "
                     f"{words.unit}; {words.items} would be invented or duplicated")
        raise SplitVerificationError(f"{what}, but {found}", task.path, landing)

    def verify_exact_end(self, split: Split, landing: Pos) -> None:
        """A split from a splitting index: its units must end exactly at ``split.end``
        (a same-length rewrite of the file would not)."""
        if self.place(landing) != self.place(split.end):
            raise SplitVerificationError(
                f"the {self.words.units} of split {split} chain on to {landing}, not to its end: "
                f"{self.exact_index_name} does not describe this file", self.task.path, landing)
