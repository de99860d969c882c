"""How many tasks a Spark session runs at once: what the split sizes of
:mod:`sparkbam_py.formats.sizing` are fitted to."""
from __future__ import annotations

from typing import Optional

from .session import is_connect

PARALLELISM_CONF = "spark.default.parallelism"


def task_slots(spark) -> Optional[int]:
    """How many tasks the session runs at once, when it says so (often not under Connect)."""
    if not is_connect(spark):
        return int(spark.sparkContext.defaultParallelism)
    value = spark.conf.get(PARALLELISM_CONF, None)  # the server's; often unset under Connect
    return int(value) if value else None
