"""Which tracks (columns) a coverage store has, and which tracks each read adds depth to.

Every read that passes the filters counts in the track ``all``; with ``by_strand`` also in
``+`` or ``-`` (SAMv1 §1.4.2 flag 0x10, reverse strand), with ``by_read_group`` in
``rg:<ID>`` of its ``RG`` tag, with ``by_sample`` in ``sample:<SM>`` of that read group's
``@RG SM`` field.  A read without an ``RG`` tag, or naming a read group its header lacks,
counts in ``rg:none`` / ``sample:none``, so every grouping of tracks sums to ``all``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..errors import ConfigError

ALL, PLUS, MINUS = "all", "+", "-"
READ_GROUP_PREFIX, SAMPLE_PREFIX = "rg:", "sample:"
NO_READ_GROUP = READ_GROUP_PREFIX + "none"
NO_SAMPLE = SAMPLE_PREFIX + "none"
# SAMv1 §1.4.2: 0x10, SEQ is reverse complemented.
FLAG_REVERSE = 0x10
GROUPINGS = ("strand", "read_group", "sample")


def read_groups_of(header_text: str) -> Dict[str, str]:
    """``{read group ID: sample (SM, or "")}`` from the ``@RG`` lines of a SAM header."""
    groups = {}
    for line in header_text.splitlines():
        if not line.startswith("@RG\t"):
            continue
        fields = dict(item.split(":", 1) for item in line.split("\t")[1:] if ":" in item)
        if "ID" in fields:
            groups[fields["ID"]] = fields.get("SM", "")
    return groups


@dataclass(frozen=True)
class FileTracks:
    """One file's read groups mapped to track indexes (what its tasks need)."""

    read_group_ids: Tuple[str, ...] = ()
    read_group_tracks: Tuple[int, ...] = ()  # track of each ID's rg:<ID>
    sample_tracks: Tuple[int, ...] = ()  # track of each ID's sample:<SM>


@dataclass(frozen=True)
class TrackLayout:
    """The store's track names in column order, and per file how reads map onto them."""

    names: Tuple[str, ...]
    by_strand: bool = False
    by_read_group: bool = False
    by_sample: bool = False
    files: Dict[str, FileTracks] = field(default_factory=dict)

    @property
    def needs_read_groups(self) -> bool:
        return self.by_read_group or self.by_sample

    def index(self, name: str) -> int:
        return self.names.index(name)

    def tracks_per_read(self) -> int:
        return 1 + int(self.by_strand) + int(self.by_read_group) + int(self.by_sample)

    def read_tracks(self, path: str, flags: np.ndarray, read_group_codes: np.ndarray) -> np.ndarray:
        """(n reads, tracks_per_read) int array: the tracks each read adds depth to.

        ``read_group_codes`` indexes the file's ``read_group_ids`` (-1: no/unknown group).
        """
        columns = [np.zeros(len(flags), dtype=np.int64)]
        if self.by_strand:
            reverse = (flags & FLAG_REVERSE) != 0
            columns.append(np.where(reverse, self.index(MINUS), self.index(PLUS)))
        file_tracks = self.files.get(path, FileTracks())
        if self.by_read_group:
            lookup = np.append(np.asarray(file_tracks.read_group_tracks, dtype=np.int64), self.index(NO_READ_GROUP))
            columns.append(lookup[read_group_codes])  # code -1 picks the appended "none"
        if self.by_sample:
            lookup = np.append(np.asarray(file_tracks.sample_tracks, dtype=np.int64), self.index(NO_SAMPLE))
            columns.append(lookup[read_group_codes])
        return np.stack(columns, axis=1)

    def strand_tracks(self) -> np.ndarray:
        """``[track of a forward read, track of a reverse read]``, or empty without strand tracks."""
        return np.asarray([self.index(PLUS), self.index(MINUS)] if self.by_strand else [], dtype=np.int64)

    def group_tracks(self, path: str) -> np.ndarray:
        """(read group codes + 1, k) int64: row ``c`` holds the read-group-derived tracks
        (``rg:``, ``sample:``) of code ``c``; the last row those of no or an unknown group.
        The same lookups as :meth:`read_tracks`, as one table for the compiled kernel."""
        codes = np.arange(-1, len(self.files.get(path, FileTracks()).read_group_ids))
        columns = self.read_tracks(path, np.zeros(len(codes), dtype=np.int64), codes)[:, 1 + int(self.by_strand):]
        return np.ascontiguousarray(np.roll(columns, -1, axis=0))  # code -1 to the last row

    def groupings(self) -> Dict[str, List[str]]:
        """Track names by grouping (``strand``, ``read_group``, ``sample``) present here."""
        found = {"strand": [PLUS, MINUS]} if self.by_strand else {}
        if self.by_read_group:
            found["read_group"] = [name for name in self.names if name.startswith(READ_GROUP_PREFIX)]
        if self.by_sample:
            found["sample"] = [name for name in self.names if name.startswith(SAMPLE_PREFIX)]
        return found


def plan_tracks(headers: Dict[str, str], groupings: Sequence[str] = ()) -> TrackLayout:
    """The track layout for files with these SAM header texts (``{path: text}``)."""
    unknown = sorted(set(groupings) - set(GROUPINGS))
    if unknown:
        raise ConfigError(f"unknown track grouping(s) {', '.join(unknown)}; known: {', '.join(GROUPINGS)}")
    by_strand, by_rg, by_sample = (name in groupings for name in GROUPINGS)
    per_file = {path: read_groups_of(text) for path, text in headers.items()}
    names = [ALL] + ([PLUS, MINUS] if by_strand else [])
    rg_names = sorted({READ_GROUP_PREFIX + rg for groups in per_file.values() for rg in groups})
    sample_names = sorted({SAMPLE_PREFIX + (sm or "none") for groups in per_file.values() for sm in groups.values()})
    if by_rg:
        names += rg_names + ([NO_READ_GROUP] if NO_READ_GROUP not in rg_names else [])
    if by_sample:
        names += sample_names + ([NO_SAMPLE] if NO_SAMPLE not in sample_names else [])
    files = {}
    for path, groups in per_file.items():
        ids = tuple(groups)
        files[path] = FileTracks(
            ids,
            tuple(names.index(READ_GROUP_PREFIX + rg) if by_rg else -1 for rg in ids),
            tuple(names.index(SAMPLE_PREFIX + (groups[rg] or "none")) if by_sample else -1 for rg in ids),
        )
    return TrackLayout(tuple(names), by_strand, by_rg, by_sample, files)
