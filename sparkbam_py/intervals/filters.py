"""Interval queries from user text and from Spark filters, without importing pyspark.

:func:`split_intervals` reads the data source option ``intervals`` (``"chr1:1-100,chr2"``).
:func:`regions_from_filters` turns filters Spark pushes to a Python data source
(``pyspark.sql.datasource`` ``EqualTo``, ``In``, ``GreaterThan``... on ``reference_name``
and ``reference_start``) into index regions.  Those regions select a *superset* of the
matching rows (every read overlapping them); Spark must still apply the filters, so a data
source returns all of them from ``pushFilters`` as still to be evaluated.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, List, Optional, Sequence, Set

from ..bam.header import BamHeader
from ..index.regions import UNPLACED, Region

REFERENCE_NAME = ("reference_name",)
REFERENCE_START = ("reference_start",)
# reference_start is a BAM int32 (SAMv1 §4.2 pos): bounds beyond it change nothing.
MAX_POSITION = (1 << 31) - 1
# A reference_start of -1 (no position) must stay inside an unbounded region's begin.
NO_POSITION = -1

# Separators between regions: commas, semicolons, whitespace.  A comma followed by exactly
# three digits inside coordinates is a thousands separator ("chr1:1,000-2,000"), as in
# samtools; a reference named with three digits must then be separated by ";" or a space.
_SEPARATORS = re.compile(r"[;\s]+")
_THOUSANDS_GROUP = re.compile(r"[0-9]{3}(?:-.*)?")


def split_intervals(text: str) -> List[str]:
    """``"chr1:1,000-2,000,chr2;*"`` -> ``["chr1:1,000-2,000", "chr2", "*"]``."""
    regions: List[str] = []
    for word in _SEPARATORS.split(text.strip()):
        current: Optional[str] = None
        for part in word.split(","):
            if current is not None and _continues_number(current, part):
                current += "," + part
                continue
            if current:
                regions.append(current)
            current = part
        if current:
            regions.append(current)
    return regions


def _continues_number(so_far: str, part: str) -> bool:
    """Whether ``part`` is the next thousands group of a coordinate in ``so_far``."""
    coords = so_far.rpartition("}")[2] if so_far.startswith("{") else so_far
    return ":" in coords and coords[-1:].isdigit() and bool(_THOUSANDS_GROUP.fullmatch(part))


class _Query:
    """The AND of the pushed filters, as a set of names and a closed range of starts."""

    def __init__(self, header: BamHeader):
        self.header = header
        self.names: Optional[Set[str]] = None  # None: every reference
        self.unplaced_allowed = True  # a null reference_name can still match
        self.placed_allowed = True
        self.lo, self.hi = NO_POSITION, MAX_POSITION
        self.used = False

    def keep_names(self, names: Iterable[str]) -> None:
        names = set(names)
        self.names = names if self.names is None else self.names & names
        self.unplaced_allowed = False  # reference_name = x (or in, like) is never true for null
        self.used = True

    def bound(self, lo: float = -math.inf, hi: float = math.inf) -> None:
        if lo > -math.inf:
            self.lo = max(self.lo, math.ceil(lo))
        if hi < math.inf:
            self.hi = min(self.hi, math.floor(hi))
        self.used = True


def _add_name_filter(query: _Query, kind: str, value) -> None:
    names = query.header.reference_names
    if kind in ("EqualTo", "EqualNullSafe") and value is None:
        query.placed_allowed = False  # <=> NULL: only unplaced reads
        query.used = True
    elif kind in ("EqualTo", "EqualNullSafe"):
        query.keep_names([value])
    elif kind == "In":
        query.keep_names(v for v in value if v is not None)
    elif kind == "IsNull":
        query.placed_allowed = False
        query.used = True
    elif kind == "IsNotNull":
        query.unplaced_allowed = False
        query.used = True
    elif kind == "StringStartsWith":
        query.keep_names(n for n in names if n.startswith(value))
    elif kind == "StringEndsWith":
        query.keep_names(n for n in names if n.endswith(value))
    elif kind == "StringContains":
        query.keep_names(n for n in names if value in n)


def _add_start_filter(query: _Query, kind: str, value) -> None:
    numbers = [v for v in (value if kind == "In" else [value]) if _is_number(v)]
    if not numbers:
        return
    if kind == "GreaterThan":
        query.bound(lo=math.floor(numbers[0]) + 1)
    elif kind == "GreaterThanOrEqual":
        query.bound(lo=numbers[0])
    elif kind == "LessThan":
        query.bound(hi=math.ceil(numbers[0]) - 1)
    elif kind == "LessThanOrEqual":
        query.bound(hi=numbers[0])
    elif kind in ("EqualTo", "EqualNullSafe", "In"):
        query.bound(lo=min(numbers), hi=max(numbers))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def regions_from_filters(filters: Sequence[object], header: BamHeader) -> Optional[List[Region]]:
    """Index regions covering every read that can pass the AND of ``filters``.

    None when no filter narrows ``reference_name`` or ``reference_start`` (read the whole
    file); ``[]`` when none can match.  Filters are pyspark's ``Filter`` dataclasses (read by
    class name, ``attribute`` and ``value``); others are ignored.  A start range
    ``[lo, hi]`` becomes the region ``[lo, hi + 1)`` on each allowed reference, uncapped by
    the reference length, so reads placed past a reference's end are not lost.  ``"*"`` (the
    unplaced reads) is included whenever a null ``reference_name`` can still match.
    """
    query = _Query(header)
    for item in filters:
        kind, attribute = type(item).__name__, tuple(getattr(item, "attribute", ()) or ())
        value = getattr(item, "value", None)
        if attribute == REFERENCE_NAME:
            _add_name_filter(query, kind, value)
        elif attribute == REFERENCE_START:
            _add_start_filter(query, kind, value)
    if not query.used:
        return None
    if query.lo > query.hi:
        return []
    regions: List[Region] = []
    if query.placed_allowed:
        for ref_id, name in enumerate(header.reference_names):
            if query.names is None or name in query.names:
                regions.append(Region(ref_id, name, query.lo, query.hi + 1))
    # Unplaced reads have reference_start -1 by the spec's convention, but SAMv1 §1.4 lets
    # POS be anything when RNAME is '*': never rule them out by a start bound.
    if query.unplaced_allowed:
        regions.append(Region(-1, UNPLACED, 0, 0))
    return regions
