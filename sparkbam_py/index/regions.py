"""samtools-style region strings, resolved against a BAM header (htslib ``hts_parse_region``).

Accepted forms (1-based, inclusive, as typed by users)::

    chr1                 the whole reference
    chr1:1000            from 1000 to the reference's end (samtools, not bcftools, meaning)
    chr1:1000-2000       bases 1000..2000;  chr1:1,000-2,000 (thousands separators)
    chr1:-2000           bases 1..2000;     chr1:1000- (to the end)
    {HLA:1}:100-200      braces quote a name that itself contains colons
    *                    the unplaced unmapped reads (refID -1)

Names with colons also work unbraced, as in htslib: the whole text is tried as a name first,
then the part before the last colon.  When both readings name references the text is
ambiguous and must be braced.  Results are 0-based half-open ``[beg, end)``.

An open end is the reference length.  An end past the reference length is capped to it when
the region starts inside the reference: no read starts past the end, so that changes no
result.  A region starting past the end is kept as typed (an open one covers its first
base), because reads hanging over the reference's end still overlap it, as in samtools.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence

from ..errors import ConfigError

UNPLACED = "*"
# The coordinates after the colon: begin, optionally "-" and end; digits with commas.
_COORDS = re.compile(r"(?P<beg>[0-9,]*)(?:-(?P<end>[0-9,]*))?")


class Region(NamedTuple):
    """A reference interval: ``ref_id`` (-1 for "*"), its name, 0-based ``[beg, end)``.

    "*" has ``beg = end = 0``: it is not a coordinate range.
    """

    ref_id: int
    name: str
    beg: int
    end: int

    def __str__(self) -> str:
        if self.ref_id < 0:
            return UNPLACED
        name = f"{{{self.name}}}" if ":" in self.name else self.name  # braced: see module doc
        return f"{name}:{self.beg + 1}-{self.end}"


def parse_region(text: str, reference_names: Sequence[str], reference_lengths: Sequence[int]) -> Region:
    """One region string resolved against the header's names and lengths (see module doc).

    :class:`ConfigError` for an unknown reference (naming it), an ambiguous name, begin
    after end, or malformed coordinates.
    """
    return _RegionParser(reference_names, reference_lengths).parse(text)


def parse_regions(
    texts: Iterable[str], reference_names: Sequence[str], reference_lengths: Sequence[int]
) -> List[Region]:
    """Many region strings against one header (the name lookup is built once)."""
    parser = _RegionParser(reference_names, reference_lengths)
    return [parser.parse(text) for text in texts]


class _RegionParser:
    def __init__(self, reference_names: Sequence[str], reference_lengths: Sequence[int]):
        if len(reference_names) != len(reference_lengths):
            raise ValueError("reference_names and reference_lengths differ in length")
        # First occurrence wins for duplicated names, as htslib's header hash keeps one.
        self.ids: Dict[str, int] = {}
        for ref_id, name in enumerate(reference_names):
            self.ids.setdefault(name, ref_id)
        self.lengths = list(reference_lengths)

    def parse(self, text: str) -> Region:
        text = text.strip()
        if not text:
            raise ConfigError("empty region")
        if text == UNPLACED:
            return Region(-1, UNPLACED, 0, 0)
        name, coords = self._split(text)
        return self._resolve(text, name, coords)

    def _split(self, text: str):
        """``(name, coords or None)``; braces first, then whole-name, then last colon."""
        if text.startswith("{"):
            close = text.find("}")
            if close < 0:
                raise ConfigError(f"region {text!r}: mismatched braces")
            rest = text[close + 1:]
            if rest and not rest.startswith(":"):
                raise ConfigError(f"region {text!r}: unexpected {rest!r} after the braced name")
            return text[1:close], (rest[1:] if rest else None)
        colon = text.rfind(":")
        if colon < 0:
            return text, None
        if text in self.ids:
            if text[:colon] in self.ids:
                raise ConfigError(
                    f"region {text!r} is ambiguous: use {{{text}}} or {{{text[:colon]}}}{text[colon:]}"
                )
            return text, None
        return text[:colon], text[colon + 1:]

    def _resolve(self, text: str, name: str, coords: Optional[str]) -> Region:
        ref_id = self.ids.get(name)
        if ref_id is None:
            raise ConfigError(f"region {text!r}: unknown reference {name!r}")
        beg, end = (0, None) if coords is None else _parse_coords(text, coords)
        return Region(ref_id, name, beg, _region_end(beg, end, self.lengths[ref_id]))


def _region_end(beg: int, end: Optional[int], length: int) -> int:
    """See the module docstring: reads overlapping ``[beg, ...)`` past the reference end
    all cover ``beg``, so ``beg + 1`` stands in for an open end there."""
    if beg < length:
        return length if end is None else min(end, length)
    return beg + 1 if end is None else end


def _parse_coords(text: str, coords: str):
    """0-based ``beg`` and exclusive ``end`` (``None`` = to the end) from ``"b-e"`` text."""
    match = _COORDS.fullmatch(coords)
    if match is None:
        raise ConfigError(f"region {text!r}: cannot read coordinates {coords!r}")
    first = _number(text, match.group("beg"))
    last = _number(text, match.group("end"))
    beg = max(first - 1, 0) if first is not None else 0
    # htslib: an end of 0 (or none) means "to the reference's end".
    end = last if last else None
    if end is not None and beg >= end:
        raise ConfigError(f"region {text!r}: begin {beg + 1} is after end {end}")
    return beg, end


def _number(text: str, digits: Optional[str]) -> Optional[int]:
    if not digits:
        return None
    plain = digits.replace(",", "")
    if not plain:
        raise ConfigError(f"region {text!r}: {digits!r} is not a number")
    return int(plain)
