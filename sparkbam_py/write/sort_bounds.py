"""Range bounds for a coordinate sort, from a cheap sample of every split's keys.

Spark's range partitioning samples its input by computing it whole, once more, before the
shuffle.  When the input is BAM splits, a sample is much cheaper: the first records of each
split (a few MiB inflated), weighted by the split's size.  In an unsorted BAM the first
records of a split are as good a sample as any; in a sorted one they mark where each split
starts, and with one output partition per split those starts are the right bounds.

Bounds are on (key, input place), so reads sharing a key (all the unplaced ones share
two) can still be spread over several partitions, and their order is kept.
"""
from __future__ import annotations

from typing import List, NamedTuple, Tuple

import numpy as np

from ..splits import SplitTask
from .sort_rows import record_keys, sequence_numbers
from .split_copy import ReadFilter, kept_records_of_split

# Records sampled from the start of each split.
SAMPLE_RECORDS = 20_000


class KeySample(NamedTuple):
    keys: np.ndarray  # int64 sort keys
    sequences: np.ndarray  # int64 input places
    weight: float  # records of the split each sampled record stands for (estimated by bytes)


def sample_split(task: SplitTask, number: int, read_filter: ReadFilter, limit: int = SAMPLE_RECORDS) -> KeySample:
    """The keys of the first ``limit`` kept records of split ``number``."""
    keys: List[np.ndarray] = []
    taken = 0
    for records in kept_records_of_split(task, read_filter):
        keys.append(record_keys(records))
        taken += len(records)
        if taken >= limit:
            break
    all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    sequences = sequence_numbers(number, 0, len(all_keys))
    return KeySample(all_keys, sequences, (task.range.end - task.range.start) / max(1, len(all_keys)))


def range_bounds(samples: List[KeySample], partitions: int) -> Tuple[np.ndarray, np.ndarray]:
    """``partitions - 1`` (key, place) bounds splitting the samples' weight evenly."""
    keys = np.concatenate([sample.keys for sample in samples]) if samples else np.zeros(0, np.int64)
    if partitions < 2 or not len(keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sequences = np.concatenate([sample.sequences for sample in samples])
    weights = np.concatenate([np.full(len(sample.keys), sample.weight) for sample in samples])
    order = np.lexsort((sequences, keys))
    cumulative = np.cumsum(weights[order])
    targets = cumulative[-1] * np.arange(1, partitions) / partitions
    # The first row past each target starts the next partition (rows at or above a bound move on).
    picked = order[np.minimum(np.searchsorted(cumulative, targets, side="right"), len(order) - 1)]
    return keys[picked], sequences[picked]


def partition_of(keys: np.ndarray, sequences: np.ndarray, bounds: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each row's partition: how many bounds are at or below its (key, place)."""
    bound_keys, bound_sequences = bounds
    below = np.searchsorted(bound_keys, keys, side="left")  # bounds with a smaller key
    for key in np.unique(bound_keys):  # rows whose key is a bound's: compare places too
        rows = keys == key
        if rows.any():
            run = np.flatnonzero(bound_keys == key)
            below[rows] = run[0] + np.searchsorted(bound_sequences[run], sequences[rows], side="right")
    return below.astype(np.int32)
