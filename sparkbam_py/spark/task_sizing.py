"""A split size that gives every task slot the same work: whole waves of equal tasks.

Cut by the default 32 MiB, a 288 MB BAM makes 9 tasks; on 2 slots the ninth runs alone
while the other slot idles, a tenth of the job on one core.  Cut into 10 tasks of 28.8 MB,
both slots stay busy to the end.  Only local files are sized (a remote store's sizes would
cost a round trip each); for others, or when the slot count is unknown, the default stays.
"""
from __future__ import annotations

import os
from typing import List, Optional

from ..config import DEFAULT_SPLIT_SIZE
from .paths import is_local_path
from .session import is_connect

PARALLELISM_CONF = "spark.default.parallelism"


def task_slots(spark) -> Optional[int]:
    """How many tasks the session runs at once, when it says so."""
    if not is_connect(spark):
        return int(spark.sparkContext.defaultParallelism)
    value = spark.conf.get(PARALLELISM_CONF, None)  # the server's; often unset under Connect
    return int(value) if value else None


def balanced_split_size(files: List[str], slots: Optional[int], target: int = DEFAULT_SPLIT_SIZE) -> Optional[int]:
    """Near ``target``, the split size that makes a whole number of waves of ``slots`` tasks
    over ``files``; None to keep the default (remote files, unknown slots)."""
    if not slots or slots < 1 or not files or not all(is_local_path(path) for path in files):
        return None
    total = sum(os.path.getsize(path) for path in files)
    waves = max(1, -(-total // (slots * target)))  # ceiling division
    return max(1, -(-total // (slots * waves)))
