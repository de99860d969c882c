"""Sums of one track of one chunk up to given offsets, straight from its inflated runs.

A range's mean, and each bin edge, needs the sum of its edge chunk's values before the
edge.  Expanding the chunk into arrays first (starts, values, running sums: a dozen numpy
passes) cost more than inflating it; the compiled kernel walks the narrow run lengths and
steps once and stops at the last offset asked for.  The numpy path (``SPARKBAM_KERNELS=python``
or no numba) expands the runs and gives the same sums.
"""
from __future__ import annotations

import numpy as np

from ..kernels import compiled
from .chunk_codec import RawChunk, runs_of


def prefix_kernel(counts, lengths, stored, steps, track, at, size, out):
    """``out[j]`` = sum of track ``track`` over ``[0, at[j])``; ``at`` ascending, in ``0..size``."""
    run, length_row = 0, 0
    for earlier in range(track):
        run += counts[earlier]
        length_row += counts[earlier] - 1
    runs = counts[track]
    value = out[0]  # a zero of the sums' type (int64 or float64): no narrow overflow
    total = out[0]
    position, j = 0, 0
    for r in range(runs):
        value = value + stored[run + r] if steps else stored[run + r]
        end = position + lengths[length_row + r] if r < runs - 1 else size
        while j < len(at) and at[j] <= end:
            out[j] = total + value * (at[j] - position)
            j += 1
        if j == len(at):
            return
        total = total + value * (end - position)
        position = end


def chunk_prefix(chunk: RawChunk, track: int, at: np.ndarray) -> np.ndarray:
    """Sums of ``track`` over ``[0, a)`` for each offset ``a`` in ``at`` (any order)."""
    at = np.asarray(at, dtype=np.int64)
    order = np.argsort(at, kind="stable")
    out = np.zeros(len(at), dtype=np.int64 if chunk.steps else np.float64)
    kernel = compiled(prefix_kernel)
    if not len(at):
        return out
    if kernel is not None:
        found = np.zeros_like(out)
        kernel(chunk.counts, chunk.lengths, chunk.stored, chunk.steps, track, at[order], chunk.size, found)
        out[order] = found
        return out
    starts, values, offsets = runs_of(chunk)
    rows = slice(offsets[track], offsets[track + 1])
    starts, values = starts[rows], values[rows]
    weighted = values * np.diff(np.append(starts, chunk.size))
    before = np.cumsum(weighted) - weighted
    k = np.searchsorted(starts, at, side="right") - 1
    return before[k] + values[k] * (at - starts[k])
