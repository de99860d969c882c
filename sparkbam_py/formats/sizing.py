"""Split sizes chosen for the task slots of whoever runs the tasks (a Spark session, local
workers), so every slot gets the same work.

* Conversions and reads (:func:`balanced_split_size`): whole waves of equal tasks near the
  default size.  Cut by the default 32 MiB, a 288 MB BAM makes 9 tasks; on 2 slots the ninth
  runs alone while the other slot idles, a tenth of the job on one core.  Cut into 10 tasks
  of 28.8 MB, both slots stay busy to the end.  Only local files are sized (a remote store's
  sizes would cost a round trip each); for others, or when the slot count is unknown, the
  default stays.
* Counts (:func:`count_split_size_for`): one task per slot.
* Coverage (:func:`tasks_per_slot_split_size`): ``TASKS_PER_SLOT`` tasks per slot, within
  ``MIN_/MAX_TASKS_PER_SLOT_SPLIT_SIZE``: its tasks are light, so fewer, larger ones cut
  Spark's fixed cost per task (~0.1 CPU s for a Python task, on the JVM and in the worker), a
  few per slot still balance the load, and the cap bounds a task's memory (its events: ~16
  bytes per read).  Its planner reads every header anyway, so remote sizes cost nothing more.

How many slots a Spark session has is :func:`sparkbam_py.spark.slots.task_slots`.
"""
from __future__ import annotations

import os
from typing import List, Optional

from ..config import DEFAULT_SPLIT_SIZE
from .paths import BAM_SUFFIXES, PathsArgument, expand_paths, is_local_path

TASKS_PER_SLOT = 2
MIN_TASKS_PER_SLOT_SPLIT_SIZE = 1 << 20
MAX_TASKS_PER_SLOT_SPLIT_SIZE = 128 << 20
# Task slots assumed when unknown (Spark Connect, when the server does not set spark.default.parallelism).
CONNECT_SLOTS_GUESS = 8
# What a folder or glob contributes to a count (count_reads takes BAM and CRAM).
COUNTED_SUFFIXES = BAM_SUFFIXES + (".cram",)


def balanced_split_size(files: List[str], slots: Optional[int], target: int = DEFAULT_SPLIT_SIZE) -> Optional[int]:
    """Near ``target``, the split size that makes a whole number of waves of ``slots`` tasks
    over ``files``; None to keep the default (remote files, unknown slots)."""
    if not slots or slots < 1 or not files or not all(is_local_path(path) for path in files):
        return None
    total = sum(os.path.getsize(path) for path in files)
    waves = max(1, -(-total // (slots * target)))  # ceiling division
    return max(1, -(-total // (slots * waves)))


def balanced_split_size_for(paths: PathsArgument, slots: Optional[int], suffixes=BAM_SUFFIXES) -> Optional[int]:
    """:func:`balanced_split_size` for paths as users give them (files, globs, folders of the
    format whose names end with ``suffixes``)."""
    given = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not given or not all(is_local_path(os.fspath(path)) for path in given):
        return None
    return balanced_split_size(expand_paths(given, suffixes), slots)


def count_split_size_for(paths: PathsArgument, slots: Optional[int]) -> Optional[int]:
    """One task per slot over local files (a count's task streams in constant memory, and
    Spark's fixed cost per task weighs more than balance: the 288 MB bench BAM on 2 slots
    counted in 0.74 s as 2 tasks and 0.80 s as 4, samtools -@2 0.92); None for remote paths, whose
    sizes would cost a round trip each, or an unknown slot count."""
    given = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not slots or not given or not all(is_local_path(os.fspath(path)) for path in given):
        return None
    total = sum(os.path.getsize(path) for path in expand_paths(given, COUNTED_SUFFIXES))
    return max(MIN_TASKS_PER_SLOT_SPLIT_SIZE, -(-total // slots)) if total else None


def tasks_per_slot_split_size(total_bytes: int, slots: Optional[int]) -> int:
    """The split size giving ``TASKS_PER_SLOT`` tasks per slot over ``total_bytes`` of input
    (``CONNECT_SLOTS_GUESS`` slots when unknown), within the bounds above."""
    size = -(-total_bytes // max(1, (slots or CONNECT_SLOTS_GUESS) * TASKS_PER_SLOT))
    return min(MAX_TASKS_PER_SLOT_SPLIT_SIZE, max(MIN_TASKS_PER_SLOT_SPLIT_SIZE, size))
