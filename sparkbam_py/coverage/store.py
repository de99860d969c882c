"""Reading a coverage store: memory-mapped arrays, O(1) range means, binned means.

One :class:`CoverageStore` per process serves every thread: each contig's two arrays are
memory-mapped once (under a lock, on first use) and only read afterwards, which is safe
from any number of threads.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import ConfigError, CorruptDataError, MissingInputError
from .store_writer import MANIFEST_NAME, STORE_FORMAT


class UnknownContigError(ConfigError, KeyError):
    """The store has no contig of that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return ConfigError.__str__(self)


@dataclass(frozen=True)
class ContigArrays:
    name: str
    length: int
    depth: np.ndarray  # (rows, tracks), memory-mapped; rows = length, or len(positions) when sparse
    cumsum: np.ndarray  # (rows + 1, tracks), memory-mapped
    positions: Optional[np.ndarray] = None  # sparse contigs: the ascending position of each row

    def rows_before(self, positions: np.ndarray) -> np.ndarray:
        """For each position, the cumulative-sum row holding the sum of every base before it."""
        if self.positions is None:
            return positions
        return np.searchsorted(self.positions, positions, side="left")


class CoverageStore:
    """A store written by :class:`~.store_writer.StoreWriter` (a local folder)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        manifest_path = os.path.join(self.path, MANIFEST_NAME)
        try:
            with open(manifest_path) as handle:
                self.manifest = json.load(handle)
        except FileNotFoundError:
            raise MissingInputError("no coverage store here (manifest.json missing)", self.path) from None
        except json.JSONDecodeError as bad:
            raise CorruptDataError(f"manifest.json is not JSON: {bad}", self.path) from None
        if self.manifest.get("format") != STORE_FORMAT:
            raise CorruptDataError(f"manifest.json is not a {STORE_FORMAT} manifest", self.path)
        self.tracks: List[str] = list(self.manifest["tracks"])
        self._entries = {entry["name"]: entry for entry in self.manifest["contigs"]}
        self._arrays: Dict[str, ContigArrays] = {}
        self._lock = threading.Lock()

    @property
    def contigs(self) -> List[dict]:
        """``[{"name", "length"}]`` in store order."""
        return [{"name": entry["name"], "length": entry["length"]} for entry in self.manifest["contigs"]]

    def length(self, contig: str) -> int:
        return self._entry(contig)["length"]

    def _entry(self, contig: str) -> dict:
        try:
            return self._entries[contig]
        except KeyError:
            raise UnknownContigError(f"unknown contig {contig!r}", self.path) from None

    def arrays(self, contig: str) -> ContigArrays:
        """The contig's memory-mapped depth and cumulative sums (mapped once per process)."""
        found = self._arrays.get(contig)
        if found is not None:
            return found
        entry = self._entry(contig)
        with self._lock:
            if contig not in self._arrays:
                depth = np.load(os.path.join(self.path, entry["depth"]), mmap_mode="r")
                cumsum = np.load(os.path.join(self.path, entry["cumsum"]), mmap_mode="r")
                positions = None
                if entry.get("layout") == "sparse":
                    positions = np.load(os.path.join(self.path, entry["positions"]), mmap_mode="r")
                rows = entry["length"] if positions is None else len(positions)
                expected = (rows, len(self.tracks))
                if depth.shape != expected or cumsum.shape != (rows + 1, expected[1]):
                    raise CorruptDataError(f"contig {contig}: arrays {depth.shape}/{cumsum.shape} do not match "
                                           f"the manifest's {expected}", self.path)
                self._arrays[contig] = ContigArrays(contig, entry["length"], depth, cumsum, positions)
            return self._arrays[contig]

    def track_indexes(self, tracks: Optional[Sequence] = None) -> List[int]:
        """Column indexes of ``tracks`` (names or indexes; None: all)."""
        if tracks is None:
            return list(range(len(self.tracks)))
        indexes = []
        for track in tracks:
            if isinstance(track, (int, np.integer)) and 0 <= track < len(self.tracks):
                indexes.append(int(track))
            elif track in self.tracks:
                indexes.append(self.tracks.index(track))
            else:
                raise ConfigError(f"unknown track {track!r}; tracks: {', '.join(self.tracks)}", self.path)
        return indexes

    def check_range(self, contig: str, start: int, end: int) -> None:
        length = self.length(contig)
        if not 0 <= start < end <= length:
            raise ConfigError(f"range [{start}, {end}) is not a non-empty range inside {contig} (0..{length})",
                              self.path)

    def mean(self, contig: str, start: int, end: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """Mean depth over ``[start, end)`` per track: two cumulative-sum rows, O(1)."""
        return self.binned(contig, start, end, 1, tracks)[0]

    def binned(self, contig: str, start: int, end: int, bins: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """``(bins, tracks)`` means over ``bins`` near-equal parts of ``[start, end)``.

        Bin ``i`` is ``[start + i*w//bins, start + (i+1)*w//bins)`` with ``w = end - start``;
        ``bins == w`` gives per-base values.  Costs O(bins), whatever the range's width.
        """
        self.check_range(contig, start, end)
        width = end - start
        if not 1 <= bins <= width:
            raise ConfigError(f"bins must be in 1..{width} (the range's width), got {bins}", self.path)
        columns = self.track_indexes(tracks)
        edges = start + (np.arange(bins + 1, dtype=np.int64) * width) // bins
        arrays = self.arrays(contig)
        sums = arrays.cumsum[arrays.rows_before(edges)][:, columns].astype(np.float64)
        return np.diff(sums, axis=0) / np.diff(edges)[:, None]

    def values(self, contig: str, start: int, end: int, tracks: Optional[Sequence] = None) -> np.ndarray:
        """The stored per-base values of ``[start, end)``."""
        self.check_range(contig, start, end)
        arrays, columns = self.arrays(contig), self.track_indexes(tracks)
        if arrays.positions is None:
            return np.asarray(arrays.depth[start:end][:, columns])
        lo, hi = arrays.rows_before(np.array([start, end]))
        values = np.zeros((end - start, len(columns)), dtype=arrays.depth.dtype)
        values[arrays.positions[lo:hi] - start] = arrays.depth[lo:hi][:, columns]
        return values
