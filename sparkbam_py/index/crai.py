"""The CRAM index, ``.crai`` (CRAMv3 §12 "Indexing"): gzipped text, one line per slice.

Each line holds six tab-separated integers: reference id (-1 unmapped), alignment start
(1-based) and span, the container's byte offset in the file, the slice's byte offset inside
the container's blocks, and the slice's size.  A container holding several references has
several lines with the same offset.

Two uses here: exact splits (each byte range starts at the first container whose header
starts in it, with no search) and region reads (the containers whose slices overlap).
"""
from __future__ import annotations

import gzip
import os
import warnings
import zlib
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Tuple

from ..channel import open_channel
from ..errors import IndexFormatError, MissingInputError, SparkBamError

CRAI_SUFFIX = ".crai"
FIELDS = 6
MULTI_REFERENCE_ID = -2


class StaleCraiWarning(UserWarning):
    """A ``.crai`` beside a CRAM was ignored (unreadable, older than the CRAM, or not matching it)."""


class CraiEntry(NamedTuple):
    """One slice: reference id, 1-based alignment start and span, container offset, slice offset and size."""

    reference_id: int
    start: int
    span: int
    container: int
    slice_offset: int
    slice_size: int


@dataclass(frozen=True)
class CraiIndex:
    """The parsed ``.crai``: its entries, in file order of their containers."""

    path: str
    entries: Tuple[CraiEntry, ...]

    @property
    def container_offsets(self) -> List[int]:
        """Every indexed container's offset, once each, ascending."""
        return sorted({entry.container for entry in self.entries})


def read_crai(path: str) -> CraiIndex:
    """Parse the ``.crai`` at ``path`` (local or URL); IndexFormatError for anything malformed."""
    with open_channel(path) as channel:
        raw = channel.read_fully(0, channel.size, ".crai")
    try:
        text = gzip.decompress(raw).decode("ascii")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise IndexFormatError(f"not a gzipped .crai: {error}", path) from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        values = line.split("\t")
        try:
            entry = CraiEntry(*(int(value) for value in values))
        except (TypeError, ValueError):
            raise IndexFormatError(f"line {number} is not {FIELDS} tab-separated integers: {line[:80]!r}",
                                   path) from None
        if entry.container < 0 or entry.slice_offset < 0 or entry.slice_size < 0 or entry.span < 0:
            raise IndexFormatError(f"line {number} holds a negative offset or size: {line[:80]!r}", path)
        entries.append(entry)
    entries.sort(key=lambda entry: (entry.container, entry.slice_offset))
    return CraiIndex(path, tuple(entries))


def find_crai(cram_path: str, file_size: int) -> Optional[CraiIndex]:
    """The current ``.crai`` beside ``cram_path``, or None (with a warning when one is stale).

    Current means: it parses, names no container past the end of the file and, for local
    files, is not older than the CRAM.  The executors then check each split's container
    chain lands exactly where the index says, so a same-size rewrite fails loudly too.
    """
    path = cram_path + CRAI_SUFFIX
    try:
        index = read_crai(path)
    except MissingInputError:
        return None
    except SparkBamError as error:
        warnings.warn(f"ignoring CRAM index {path}: {error}", StaleCraiWarning, stacklevel=2)
        return None
    if index.entries and index.entries[-1].container >= file_size:
        warnings.warn(f"ignoring stale CRAM index {path}: it names a container at byte "
                      f"{index.entries[-1].container}, past the end of the {file_size}-byte file",
                      StaleCraiWarning, stacklevel=2)
        return None
    if os.path.exists(cram_path) and os.path.getmtime(path) < os.path.getmtime(cram_path):
        warnings.warn(f"ignoring CRAM index {path}: it is older than {cram_path}", StaleCraiWarning, stacklevel=2)
        return None
    return index


def containers_for_regions(index: CraiIndex, regions) -> List[Tuple[int, Optional[int]]]:
    """Runs ``(first container, the container after the run or None)`` of the containers
    whose slices may hold reads of ``regions`` (``index.regions.Region``: 0-based ``[beg, end)``,
    ref_id -1 for unplaced reads); multi-reference containers are always included."""
    offsets = index.container_offsets
    wanted = set()
    for entry in index.entries:
        if entry.reference_id == MULTI_REFERENCE_ID or any(_overlaps(entry, region) for region in regions):
            wanted.add(entry.container)
    runs: List[Tuple[int, Optional[int]]] = []
    for k, offset in enumerate(offsets):
        if offset not in wanted:
            continue
        after = offsets[k + 1] if k + 1 < len(offsets) else None
        if runs and runs[-1][1] == offset:
            runs[-1] = (runs[-1][0], after)
        else:
            runs.append((offset, after))
    return runs


def _overlaps(entry: CraiEntry, region) -> bool:
    if region.ref_id < 0:
        return entry.reference_id == -1
    if entry.reference_id != region.ref_id:
        return False
    # CRAI starts are 1-based; an unmapped-placed slice may have span 0: count it as one base.
    begin = entry.start - 1
    return begin < region.end and begin + max(entry.span, 1) > region.beg
