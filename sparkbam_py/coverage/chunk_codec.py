"""One chunk's runs as bytes, and back.

Measured on 30x depth (2 Mb of chr21, 64 kb chunks), the smallest of the encodings tried
was: each run's length in the narrowest unsigned type, each run's value as the step from
the run before in the narrowest signed type, then zstd at level 1 (0.21 bytes per base;
the same runs as absolute uint16 values 0.31, the dense uint16 depth 0.38, its byte-wise
steps 0.26).  Steps of float tracks (imported values) would not add back exactly, so
those keep their values, as float32 when that is exact.

Layout (little-endian), after one codec byte (``RAW``, or ``ZSTD`` followed by the
uint32 size of what it inflates to)::

    uint8 length type code, uint8 value type code, uint32 runs per track
    the length of every run but each track's last (that one ends with the chunk)
    every run's value (or step), track after track

Corrupt bytes raise :class:`~sparkbam_py.errors.CorruptDataError` naming where they came from.
"""
from __future__ import annotations

import struct
from typing import NamedTuple, Tuple

import numpy as np
import pyarrow as pa

from ..errors import CorruptDataError

RAW, ZSTD = 0, 1
ZSTD_LEVEL = 1
# Below this many bytes zstd's frame costs more than it saves (a sparse chunk of a few runs).
MIN_COMPRESSED = 96
LENGTH_TYPES = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))
STEP_TYPES = (np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8"))
FLOAT_TYPES = (np.dtype("<f4"), np.dtype("<f8"))
VALUE_TYPES = STEP_TYPES + FLOAT_TYPES
_HEAD = struct.Struct("<BB")
_SIZE = struct.Struct("<I")


def _codec() -> pa.Codec:
    return pa.Codec("zstd", compression_level=ZSTD_LEVEL)


def _narrowest(types, low, high) -> int:
    for code, kind in enumerate(types):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return code
    raise ValueError(f"no type holds [{low}, {high}]")


def encode_chunk(lengths: np.ndarray, values: np.ndarray, runs_per_track: np.ndarray) -> bytes:
    """Bytes of one chunk: ``lengths`` and ``values`` of its runs, track after track."""
    last = np.cumsum(runs_per_track) - 1
    stored_lengths = np.delete(lengths, last)
    length_code = _narrowest(LENGTH_TYPES, 0, int(stored_lengths.max(initial=0)))
    if values.dtype.kind == "f":
        exact32 = np.array_equal(values.astype(np.float32), values, equal_nan=True)
        value_code = len(STEP_TYPES) + (0 if exact32 else 1)
        stored_values = values
    else:
        stored_values = np.diff(values, prepend=np.int64(0))
        first = last + 1 - runs_per_track
        stored_values[first] = values[first]  # each track starts from 0
        value_code = _narrowest(STEP_TYPES, int(stored_values.min(initial=0)), int(stored_values.max(initial=0)))
    raw = b"".join((_HEAD.pack(length_code, value_code), np.asarray(runs_per_track, "<u4").tobytes(),
                    stored_lengths.astype(LENGTH_TYPES[length_code]).tobytes(),
                    stored_values.astype(VALUE_TYPES[value_code]).tobytes()))
    if len(raw) >= MIN_COMPRESSED:
        packed = _codec().compress(raw, asbytes=True)
        if len(packed) + _SIZE.size < len(raw):
            return bytes([ZSTD]) + _SIZE.pack(len(raw)) + packed
    return bytes([RAW]) + raw


class RawChunk(NamedTuple):
    """One chunk inflated but not expanded: views on its bytes (a tenth of its runs as arrays)."""

    counts: np.ndarray  # int64: runs per track
    lengths: np.ndarray  # every run's length but each track's last, narrowest unsigned type
    stored: np.ndarray  # every run's step from the run before (integers) or value (floats)
    size: int  # bases in the chunk
    nbytes: int

    @property
    def steps(self) -> bool:
        return self.stored.dtype.kind != "f"


def inflate_chunk(blob, n_tracks: int, size: int, where: str = "") -> RawChunk:
    """One chunk's bytes, inflated and checked: every run at least one base, each track's
    runs inside the chunk's ``size`` bases."""
    try:
        raw = _inflate(memoryview(blob))
        length_code, value_code = _HEAD.unpack_from(raw, 0)
        counts = np.frombuffer(raw, "<u4", n_tracks, _HEAD.size).astype(np.int64)
        runs = int(counts.sum())
        length_type, value_type = LENGTH_TYPES[length_code], VALUE_TYPES[value_code]
        at = _HEAD.size + 4 * n_tracks
        lengths = np.frombuffer(raw, length_type, runs - n_tracks, at)
        at += (runs - n_tracks) * length_type.itemsize
        stored = np.frombuffer(raw, value_type, runs, at)
        if at + stored.nbytes != len(raw) or np.any(counts < 1):
            raise ValueError("sizes do not add up")
    except (ValueError, IndexError, OSError, struct.error, pa.ArrowException) as bad:
        raise CorruptDataError(f"coverage chunk does not decode: {bad}", where) from None
    covered = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    bounds = np.concatenate([[0], np.cumsum(counts - 1)])
    if np.any(lengths == 0) or np.any(covered[bounds[1:]] - covered[bounds[:-1]] >= size):
        raise CorruptDataError("coverage chunk's runs do not fit the chunk", where)
    return RawChunk(counts, lengths, stored, size, len(raw) + 128)


def runs_of(chunk: RawChunk) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, values, run_offsets)``: track ``t``'s runs are rows
    ``run_offsets[t]:run_offsets[t + 1]``; values are int64 or float64."""
    counts = chunk.counts
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # A track's first run starts at 0, each later one where the one before it ends.
    steps = np.zeros(int(offsets[-1]), dtype=np.int64)
    later = np.ones(len(steps), dtype=bool)
    later[offsets[:-1]] = False
    steps[later] = chunk.lengths
    running = np.cumsum(steps)
    starts = running - np.repeat(running[offsets[:-1]], counts)
    stored = chunk.stored
    if not chunk.steps:
        return starts, stored.astype(np.float64), offsets
    values = np.cumsum(stored, dtype=np.int64)
    values -= np.repeat(values[offsets[:-1]] - stored[offsets[:-1]], counts)
    return starts, values, offsets


def decode_chunk(blob, n_tracks: int, size: int, where: str = "") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`runs_of` the chunk in ``blob``."""
    return runs_of(inflate_chunk(blob, n_tracks, size, where))


def _inflate(blob: memoryview):
    if not len(blob):
        raise ValueError("empty")
    if blob[0] == RAW:
        return blob[1:]
    if blob[0] != ZSTD:
        raise ValueError(f"unknown codec {blob[0]}")
    (size,) = _SIZE.unpack_from(blob, 1)
    return _codec().decompress(blob[1 + _SIZE.size:], decompressed_size=size, asbytes=True)
