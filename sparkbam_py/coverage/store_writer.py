"""Writing a coverage store through fsspec (local folder or object store).

Layout (``MANIFEST_NAME`` describes it)::

    manifest.json            contigs, lengths, tracks, sources, filters, tool version
    contigs/000000.npy       depth, rows = bases, columns = tracks, narrowest dtype
    contigs/000000.cumsum.npy   cumulative sums, one more row (row 0 is zeros): the sum
                             of [s, e) is cumsum[e] - cumsum[s], so any range's mean is O(1)

A sparse contig (imported per-base tables, where most bases have no value) adds
``contigs/000000.positions.npy`` (ascending 0-based positions); its depth rows are those
positions' values and the reader finds a range's rows with ``searchsorted``.

Contigs are written one at a time.  Their values are first gathered in a scratch array (the
final dtype depends on the maximum, known only at the end): in memory for contigs of up to
``IN_MEMORY_SCRATCH_CELLS``, else a local memmap; then streamed to the store in slabs, so
memory stays bounded whatever the contig's length.
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Iterable, Optional, Sequence, Tuple

import fsspec
import numpy as np

from ..errors import ConfigError
from ..version import __version__
from .dtypes import cumsum_dtype, float_values_dtype, narrowest_value_dtype

MANIFEST_NAME = "manifest.json"
STORE_FORMAT = "sparkbam-coverage"
STORE_FORMAT_VERSION = 1
CONTIG_FOLDER = "contigs"
SLAB_ROWS = 1 << 22  # rows streamed per write: 4 M bases
# Contigs of up to this many cells (bases x tracks; 128 MiB of uint32) are gathered in memory,
# longer ones in a scratch memmap.
IN_MEMORY_SCRATCH_CELLS = 1 << 25


def contig_files(index: int) -> Tuple[str, str, str]:
    """The depth, cumulative-sum and positions file names (relative to the store) of contig ``index``."""
    stem = f"{CONTIG_FOLDER}/{index:06d}"
    return f"{stem}.npy", f"{stem}.cumsum.npy", f"{stem}.positions.npy"


class StoreWriter:
    """Writes contigs in any order, then the manifest (``close``): a store without one is unfinished."""

    def __init__(self, url: str, contigs: Sequence[Tuple[str, int]], tracks: Sequence[str], *,
                 metadata: Optional[dict] = None, storage_options: Optional[dict] = None):
        if not tracks:
            raise ConfigError("a coverage store needs at least one track", url)
        self.fs, self.root = fsspec.core.url_to_fs(os.fspath(url), **(storage_options or {}))
        self.url = os.fspath(url)
        self.contigs = list(contigs)
        self.tracks = list(tracks)
        self.metadata = dict(metadata or {})
        self.written = {}
        self.fs.makedirs(f"{self.root}/{CONTIG_FOLDER}", exist_ok=True)

    def write_contig(self, index: int, slabs: Iterable[Tuple[int, np.ndarray]], scratch_dtype=np.uint32) -> None:
        """Contig ``index`` from ``(first row, rows x tracks array)`` slabs; rows not given are 0."""
        name, length = self.contigs[index]
        if length * len(self.tracks) <= IN_MEMORY_SCRATCH_CELLS:
            # Small enough for memory: no scratch file to create, fault in and remove.
            scratch = np.zeros((length, len(self.tracks)), dtype=scratch_dtype)
            _fill(scratch, slabs, name)
            self.written[index] = self._stream(index, scratch)
            return
        with tempfile.TemporaryDirectory(prefix="sparkbam-coverage-") as scratch_dir:
            scratch = np.lib.format.open_memmap(os.path.join(scratch_dir, "values.npy"), mode="w+",
                                                dtype=scratch_dtype, shape=(length, len(self.tracks)))
            _fill(scratch, slabs, name)
            self.written[index] = self._stream(index, scratch)
            del scratch

    def _stream(self, index: int, scratch: np.ndarray) -> dict:
        minimum, maximum, total, integral = _scan(scratch)
        if integral:
            value_dtype = narrowest_value_dtype(minimum, maximum, True)
        else:
            value_dtype = _float_dtype(scratch)
        sums_dtype = cumsum_dtype(value_dtype, total)
        depth_file, cumsum_file, _ = contig_files(index)
        length, n_tracks = scratch.shape
        with self.fs.open(f"{self.root}/{depth_file}", "wb") as depth_out, \
                self.fs.open(f"{self.root}/{cumsum_file}", "wb") as sums_out:
            _write_npy_header(depth_out, value_dtype, (length, n_tracks))
            _write_npy_header(sums_out, sums_dtype, (length + 1, n_tracks))
            running = np.zeros(n_tracks, dtype=sums_dtype)
            sums_out.write(running.tobytes())
            for lo in range(0, length, SLAB_ROWS):
                slab = scratch[lo:lo + SLAB_ROWS]
                depth_out.write(_as_bytes(np.ascontiguousarray(slab, dtype=value_dtype)))
                sums = np.cumsum(slab, axis=0, dtype=sums_dtype)
                sums += running
                sums_out.write(_as_bytes(sums))
                running = sums[-1].copy()
        maxima = scratch.max(axis=0) if length else np.zeros(n_tracks)
        return {"name": self.contigs[index][0], "length": length, "layout": "dense", "depth": depth_file,
                "cumsum": cumsum_file, "dtype": value_dtype.str, "cumsum_dtype": sums_dtype.str,
                "max": maxima.tolist()}

    def write_sparse_contig(self, index: int, positions: np.ndarray, values: np.ndarray) -> None:
        """Contig ``index`` as values (rows x tracks) at ascending, distinct ``positions`` only."""
        name, length = self.contigs[index]
        positions = np.asarray(positions, dtype=np.int64)
        values = np.asarray(values).reshape(len(positions), len(self.tracks))
        if len(positions) and (positions[0] < 0 or positions[-1] >= length or np.any(np.diff(positions) <= 0)):
            raise ConfigError(f"positions of contig {name} must ascend strictly inside 0..{length - 1}", self.url)
        minimum, maximum, total, integral = _scan(values)
        value_dtype = narrowest_value_dtype(minimum, maximum, True) if integral else _float_dtype(values)
        sums = np.zeros((len(positions) + 1, len(self.tracks)), dtype=cumsum_dtype(value_dtype, total))
        np.cumsum(values, axis=0, out=sums[1:])
        depth_file, cumsum_file, positions_file = contig_files(index)
        position_dtype = narrowest_value_dtype(0, max(length - 1, 0), True)
        for file, array in ((depth_file, values.astype(value_dtype)), (cumsum_file, sums),
                            (positions_file, positions.astype(position_dtype))):
            with self.fs.open(f"{self.root}/{file}", "wb") as out:
                _write_npy_header(out, array.dtype, array.shape)
                out.write(np.ascontiguousarray(array).tobytes())
        maxima = values.max(axis=0) if len(values) else np.zeros(len(self.tracks))
        self.written[index] = {"name": name, "length": length, "layout": "sparse", "depth": depth_file,
                               "cumsum": cumsum_file, "positions": positions_file, "dtype": value_dtype.str,
                               "cumsum_dtype": sums.dtype.str, "max": maxima.tolist()}

    def close(self) -> dict:
        """Write contigs never given (all zeros), then the manifest; returns the manifest."""
        for index in range(len(self.contigs)):
            if index not in self.written:
                self.write_contig(index, ())
        manifest = {
            "format": STORE_FORMAT, "format_version": STORE_FORMAT_VERSION,
            "tool": "sparkbam_py", "tool_version": __version__,
            "tracks": self.tracks, **self.metadata,
            "contigs": [self.written[index] for index in range(len(self.contigs))],
        }
        with self.fs.open(f"{self.root}/{MANIFEST_NAME}", "w") as out:
            json.dump(manifest, out, indent=1)
        return manifest


def _fill(scratch: np.ndarray, slabs, name: str) -> None:
    length = len(scratch)
    limit = np.iinfo(scratch.dtype).max if scratch.dtype.kind in "iu" else None
    for first, values in slabs:
        values = np.asarray(values)
        if values.ndim == 1:
            values = values[:, None]
        rows = min(len(values), length - first)
        if first < 0 or rows < 0 or values.shape[1] != scratch.shape[1]:
            raise ConfigError(f"slab at row {first} of shape {values.shape} does not fit contig {name} "
                              f"({length} bases, {scratch.shape[1]} tracks)")
        values = values[:rows]
        if limit is not None and rows and values.max() > limit:
            raise ConfigError(f"depth {int(values.max())} on contig {name} exceeds {scratch.dtype} scratch")
        scratch[first:first + rows] = values


def _scan(scratch: np.ndarray):
    """(min, max, sum of |values|, all integral) over the contig, slab by slab."""
    if scratch.dtype.kind in "iu":
        lows, highs, total = [0], [0], 0
        for lo in range(0, len(scratch), SLAB_ROWS):
            slab = scratch[lo:lo + SLAB_ROWS]
            lows.append(int(slab.min()))
            highs.append(int(slab.max()))
            if slab.dtype.kind == "u":  # no sign: the sums need no int64 copy and no abs
                total += int(slab.sum(axis=0, dtype=np.uint64).max())
            else:
                total += int(np.abs(slab.astype(np.int64)).sum(axis=0).max())
        return min(lows), max(highs), total, True
    integral = all(bool(np.all(np.mod(scratch[lo:lo + SLAB_ROWS], 1) == 0)) for lo in range(0, len(scratch), SLAB_ROWS))
    if integral and len(scratch):
        return (int(scratch.min()), int(scratch.max()),
                int(np.abs(scratch).sum(axis=0).max()), True)
    return 0, 0, 0, integral or not len(scratch)


def _float_dtype(scratch: np.ndarray) -> np.dtype:
    widest = np.dtype(np.float32)
    for lo in range(0, len(scratch), SLAB_ROWS):
        widest = np.promote_types(widest, float_values_dtype(scratch[lo:lo + SLAB_ROWS]))
    return widest


def _as_bytes(array: np.ndarray) -> memoryview:
    """A C-contiguous array's bytes without a copy (``tobytes`` would copy them)."""
    return memoryview(array.reshape(-1).view(np.uint8))


def _write_npy_header(out, dtype: np.dtype, shape) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(out, header)
