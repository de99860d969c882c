"""Find a byte range's first CRAM container on the executor, and walk containers from there.

A byte range ``[start, end)`` owns the containers whose header starts in it.  Its first one
is found without any index: every byte position is a candidate, numpy drops the impossible
ones in bulk (a length that leaves the file, a reference id the header does not have,
negative start, span or record count), and each survivor must parse completely (CRC32 of
the header from CRAM 3.0) and chain through the next ``containers_to_check`` headers, or to
the end-of-file container.  CRAM 2.1 headers carry no CRC, so there the chain alone decides.

The end-of-file container is never "the first container" of a range: a range whose search
reaches it owns nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from .container import (
    LENGTH_BYTES,
    MAX_FIXED_HEADER_BYTES,
    MIN_BLOCK_BYTES,
    MULTI_REFERENCE_ID,
    ContainerHeader,
    header_bytes_at,
    parse_container_header,
    read_container_header,
)
from .header import CramHeader
from .numbers import itf8_many

# Container headers that must chain after a candidate (the BAM search's readsToCheck).
DEFAULT_CONTAINERS_TO_CHECK = 3
# Bytes of candidates examined per numpy pass.
SEARCH_WINDOW = 1 << 18


@dataclass(frozen=True)
class CramSearchConfig:
    """How hard the container search looks; travels to executors inside each task."""

    containers_to_check: int = DEFAULT_CONTAINERS_TO_CHECK


def _int32_at_every_byte(window: bytes, count: int) -> np.ndarray:
    """The little-endian int32 starting at each of the first ``count`` bytes of ``window``."""
    padded = window + bytes(8)
    values = np.empty(count + 3, dtype=np.int64)
    for shift in range(4):
        lanes = (count + 3 - shift) // 4
        values[shift::4][:lanes] = np.frombuffer(padded, dtype="<i4", count=lanes, offset=shift)
    return values[:count]


def plausible_offsets(window: bytes, window_offset: int, count: int, file_size: int, reference_count: int) -> np.ndarray:
    """Offsets (in the file) among the first ``count`` bytes of ``window`` where a container
    header could start, judged on its first five fields only."""
    data = np.frombuffer(window + bytes(MAX_FIXED_HEADER_BYTES), dtype=np.uint8)
    positions = np.arange(count, dtype=np.int64)
    length = _int32_at_every_byte(window, count)
    positions = positions[(length >= MIN_BLOCK_BYTES) & (length <= file_size - window_offset - positions)]
    reference_id, after = itf8_many(data, positions + LENGTH_BYTES)
    keep = (reference_id >= MULTI_REFERENCE_ID) & (reference_id < reference_count)
    positions, after = positions[keep], after[keep]
    for _ in range(3):  # start, span, records: never negative
        value, after = itf8_many(data, after)
        keep = value >= 0
        positions, after = positions[keep], after[keep]
    return positions + window_offset


def container_at(channel, offset: int, header: CramHeader) -> Optional[ContainerHeader]:
    """The container header at ``offset`` if one parses there, else None (never raises for bad bytes)."""
    head = header_bytes_at(channel, offset, header.definition)
    return parse_container_header(head, 0, header.definition, offset, channel.size, len(header.reference_names))


def chains(channel, first: ContainerHeader, header: CramHeader, containers_to_check: int) -> bool:
    """Whether ``containers_to_check`` valid headers follow ``first`` back to back, or the
    chain reaches the end-of-file container (or the end of the file) first."""
    current = first
    for _ in range(containers_to_check):
        if current.is_eof or current.end == channel.size:
            return current.end == channel.size
        current = container_at(channel, current.end, header)
        if current is None:
            return False
    return True


def find_container_start(channel, header: CramHeader, offset: int, config: CramSearchConfig = CramSearchConfig(),
                         stop: Optional[int] = None) -> Optional[ContainerHeader]:
    """The first data container whose header starts at or after ``offset`` (and before
    ``stop``); None when there is none before ``stop`` or the end-of-file container."""
    size = channel.size
    limit = size if stop is None else min(stop, size)
    if offset <= header.first_container:
        found = container_at(channel, header.first_container, header) if header.first_container < limit else None
        return None if found is None or found.is_eof else found
    position = offset
    while position < limit:
        count = min(SEARCH_WINDOW, limit - position)
        window = channel.read_at(position, count + MAX_FIXED_HEADER_BYTES)
        for candidate in plausible_offsets(window, position, count, size, len(header.reference_names)):
            found = container_at(channel, int(candidate), header)
            if found is not None and chains(channel, found, header, config.containers_to_check):
                return None if found.is_eof else found
        position += count
    return None


def iter_containers(channel, first: ContainerHeader, header: CramHeader, end: int) -> Iterator[ContainerHeader]:
    """The chain of containers from ``first`` whose headers start before ``end``, stopping at
    the end-of-file container; typed errors when the chain breaks."""
    current = first
    while not current.is_eof and current.offset < end:
        yield current
        if current.end >= channel.size:
            return
        current = read_container_header(channel, current.end, header.definition, len(header.reference_names))
