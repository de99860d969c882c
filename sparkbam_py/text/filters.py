"""Region strings from the filters Spark pushes to a text data source.

Filters on the format's contig column (``EqualTo``, ``In``, ``StringStartsWith``...) and on
its 0-based ``start`` column (comparisons) become tabix regions.  They select a superset
of the matching records (every record overlapping them); Spark still applies the filters.
Unlike BAM's positions, text positions are not capped at 2^31: the open end of a region
is the largest position the index's binning scheme holds.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

from ..index.bins import max_reference_length
from ..index.regions import Region
from ..index.tabix import TabixIndex

_NAME_KINDS = ("EqualTo", "EqualNullSafe", "In", "StringStartsWith", "StringEndsWith", "StringContains")


def regions_from_text_filters(filters: Sequence[object], contig_column: str, start_column: str,
                              tabix: TabixIndex) -> Optional[List[str]]:
    """Region strings covering every record that can pass the AND of ``filters``; None when
    no filter narrows the contig or start column, ``[]`` when none can match."""
    names = set(tabix.names)
    lo, hi = 0, max_reference_length(tabix.index.min_shift, tabix.index.depth) - 1
    used = False
    for item in filters:
        kind, attribute = type(item).__name__, tuple(getattr(item, "attribute", ()) or ())
        value = getattr(item, "value", None)
        if attribute == (contig_column,) and kind in _NAME_KINDS:
            names &= _names_matching(kind, value, tabix.names)
            used = True
        elif attribute == (start_column,):
            bounds = _start_bounds(kind, value)
            if bounds is not None:
                lo, hi, used = max(lo, bounds[0]), min(hi, bounds[1]), True
    if not used:
        return None
    if lo > hi:
        return []
    return [str(Region(ref_id, name, lo, hi + 1)) for ref_id, name in enumerate(tabix.names) if name in names]


def _names_matching(kind: str, value, names: Sequence[str]) -> set:
    if kind in ("EqualTo", "EqualNullSafe"):
        return {value}
    if kind == "In":
        return {v for v in value if v is not None}
    if kind == "StringStartsWith":
        return {n for n in names if n.startswith(value)}
    if kind == "StringEndsWith":
        return {n for n in names if n.endswith(value)}
    return {n for n in names if value in n}


def _start_bounds(kind: str, value):
    """``(lo, hi)``, the closed range of starts a comparison allows; None if it says nothing."""
    numbers = [v for v in (value if kind == "In" else [value]) if _is_number(v)]
    if not numbers:
        return None
    first = numbers[0]
    return {
        "GreaterThan": (math.floor(first) + 1, math.inf),
        "GreaterThanOrEqual": (math.ceil(first), math.inf),
        "LessThan": (-math.inf, math.ceil(first) - 1),
        "LessThanOrEqual": (-math.inf, math.floor(first)),
    }.get(kind, (min(numbers), max(numbers)) if kind in ("EqualTo", "EqualNullSafe", "In") else None)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
