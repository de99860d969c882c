"""Where a coordinate sort cuts the key space: output ranges from a small sample of keys.

``view_bam(sort=True)`` sorts without Spark's range sampling (which reads every split once
more, in full, only to learn the key distribution).  Instead each split sends a few short
probes: a handful of sub-ranges spread over it, each read from its own first record start
(the same search the split readers use) for a BGZF block or two.  Their keys give the
quantile bounds of the output ranges, and their bytes the ratio of inflated records to
compressed input, which sizes the ranges so that one range's records stay bounded in the
task that sorts and writes them (:data:`RANGE_BYTES`).

A bound is a pair (key, split number), compared key first: range ``r`` holds the records
whose (key, split) lies in ``[bound r-1, bound r)``.  Equal keys of one split always share a
range, and equal keys of several splits are cut only between splits, in input order, so
samtools' tie order (input order) holds across ranges too, and one key held by a great many
reads (a BAM of unplaced reads, all on the same key) still spreads over many ranges.

Each range also gets a *slot*: the value of a Spark column that ``repartition(P, slot)``
sends to partition ``r`` (Spark's hash partitioning is ``pmod(murmur3(slot, seed 42), P)``,
copied in :func:`spark_int_hash`).  Order never depends on that placement: a write task
writes one part per range it receives, named by the range, so a slot that lands elsewhere
(another Spark, another hash) costs balance, never order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import List, Sequence

import numpy as np

from ..bam.splits import SplitReader, SplitTask
from ..split.ranges import ByteRange
from .sort_rows import record_keys
from .split_copy import ReadFilter, kept_records

# The inflated records one output range may hold: the write task sorts them in memory.
RANGE_BYTES = 128 << 20
# Probes per split, and the compressed bytes each reads (a BAM BGZF block is <= 64 KiB,
# SAMv1 §4.1, so a probe covers one or two blocks past its start).
PROBES_PER_SPLIT = 8
PROBE_BYTES = 64 << 10
# Keys kept per probe: a probe's records are neighbours in the input, so more add little.
KEYS_PER_PROBE = 64
# Spark's HashPartitioning seed (Murmur3Hash's default in catalyst's hash expressions).
SPARK_HASH_SEED = 42


@dataclass(frozen=True)
class SplitSample:
    """What a split's probes saw: some keys, and inflated record bytes per compressed byte."""

    split: int  # the split's number, in input order
    keys: np.ndarray
    record_bytes: int
    compressed_bytes: int


def sample_split(task: SplitTask, split: int, read_filter: ReadFilter, probes: int = PROBES_PER_SPLIT) -> SplitSample:
    """Keys of the kept records at ``probes`` places spread over ``task``'s range (split number ``split``)."""
    start, end = task.range
    step = max(1, (end - start) // probes)
    keys: List[np.ndarray] = []
    record_bytes = compressed = 0
    for probe_start in range(start, end, step):
        probe_end = min(end, probe_start + PROBE_BYTES)
        probe = replace(task, range=ByteRange(probe_start, probe_end), exact=None, verify=False)
        compressed += probe_end - probe_start
        with SplitReader(probe) as reader:
            for chunk in reader.iter_chunks(reuse_buffer=True):
                fixed = chunk.fixed_fields()
                keep = read_filter.keep(fixed)
                if keep.any():
                    records = kept_records(chunk.run.data, chunk.offsets[keep], fixed[keep],
                                           reader.header.reference_names)
                    record_bytes += len(records.data)
                    probe_keys = record_keys(records)
                    keys.append(probe_keys[np.linspace(0, len(probe_keys) - 1, min(KEYS_PER_PROBE,
                                                                                     len(probe_keys))).astype(int)])
    merged = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    return SplitSample(split, merged, record_bytes, compressed)


@dataclass(frozen=True)
class SortPlan:
    """The output ranges of a sort: ``len(bounds) + 1`` ranges, and each range's slot value."""

    bounds: np.ndarray  # int64 keys of the bounds, ascending
    bound_splits: np.ndarray  # int64 split numbers of the bounds, ascending among equal keys
    slots: np.ndarray  # int32, one per range
    record_bytes: int = 0  # the records' bytes all ranges hold together, as the probes estimate them

    @property
    def ranges(self) -> int:
        return len(self.bounds) + 1

    def range_of(self, keys: np.ndarray, split: int) -> np.ndarray:
        """The range of each key of split ``split`` (int32)."""
        # (key, split) >= (b_key, b_split) exactly when key >= b_key + (b_split > split); those
        # shifted keys stay ascending, so one search places every key.
        shifted = self.bounds + (self.bound_splits > split)
        return np.searchsorted(shifted, keys, side="right").astype(np.int32)


def plan_sort(samples: Sequence[SplitSample], input_bytes: int, min_ranges: int,
              range_bytes: int = RANGE_BYTES) -> SortPlan:
    """Ranges of about equal numbers of sampled keys, enough for ``min_ranges`` and for no
    range to pass ``range_bytes`` of inflated records (by the sampled inflation ratio)."""
    keys = np.concatenate([s.keys for s in samples] + [np.zeros(0, dtype=np.int64)])
    splits = np.concatenate([np.full(len(s.keys), s.split, dtype=np.int64) for s in samples]
                            + [np.zeros(0, dtype=np.int64)])
    order = np.lexsort((splits, keys))
    compressed = sum(s.compressed_bytes for s in samples)
    inflated = input_bytes * (sum(s.record_bytes for s in samples) / compressed) if compressed else 0
    count = max(1, min_ranges, math.ceil(inflated / range_bytes))
    picked = order[(np.arange(1, count) * len(keys)) // count] if len(keys) else np.zeros(0, dtype=np.int64)
    # Repeated pairs would make empty ranges: each bound once.
    pairs = np.unique(np.stack([keys[picked], splits[picked]], axis=1), axis=0)
    return SortPlan(pairs[:, 0].copy(), pairs[:, 1].copy(), partition_slots(len(pairs) + 1), int(inflated))


def spark_int_hash(values: np.ndarray, seed: int = SPARK_HASH_SEED) -> np.ndarray:
    """Spark's ``hash(int)`` (Murmur3_x86_32.hashInt) of int32 ``values``, as int32."""
    def rotl(x, r):
        return (x << np.uint32(r)) | (x >> np.uint32(32 - r))

    with np.errstate(over="ignore"):
        k1 = np.asarray(values, dtype=np.int32).view(np.uint32) * np.uint32(0xCC9E2D51)
        k1 = rotl(k1, 15) * np.uint32(0x1B873593)
        h1 = np.uint32(seed) ^ k1
        h1 = rotl(h1, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        h1 ^= np.uint32(4)  # the input's length in bytes
        h1 ^= h1 >> np.uint32(16)
        h1 *= np.uint32(0x85EBCA6B)
        h1 ^= h1 >> np.uint32(13)
        h1 *= np.uint32(0xC2B2AE35)
        h1 ^= h1 >> np.uint32(16)
    return h1.view(np.int32)


def partition_slots(partitions: int) -> np.ndarray:
    """For each partition ``p < partitions``, the smallest int that Spark's hash partitioning
    into ``partitions`` sends to ``p``."""
    slots = np.full(partitions, -1, dtype=np.int64)
    found, start = 0, 0
    while found < partitions:
        candidates = np.arange(start, start + 64 * partitions, dtype=np.int64)
        targets = np.mod(spark_int_hash(candidates.astype(np.int32)).astype(np.int64), partitions)
        hit, first = np.unique(targets, return_index=True)
        new = slots[hit] < 0
        slots[hit[new]] = candidates[first[new]]
        found += int(new.sum())
        start += 64 * partitions
    return slots.astype(np.int32)
