"""CRAM behind the user-facing loaders: ``load_reads``, ``count_reads`` and ``compute_splits``
take a CRAM as they take a BAM (``spark/api.py`` branches here on the ``CRAM`` magic).

Loads go through ``format("cram")``; counts and splits run plain RDD tasks on a classic
session and the ``cram_splits`` data source under Spark Connect, as the BAM ones do.
"""
from __future__ import annotations

import os
from functools import partial
from typing import List, Optional, Sequence

from ..config import DEFAULT_SPLIT_SIZE
from ..cram.plan import is_cram
from ..errors import ConfigError
from ..pos import Pos
from ..split import Split, splits_from_starts
from .session import is_connect

# Keyword options of the loaders that mean something for CRAM, and their data source names.
CRAM_KEYWORDS = {"reference": "reference", "verify_splits": "verifySplits", "use_index": "useIndex",
                 "containers_to_check": "containersToCheck", "intervals": "intervals"}


def names_cram(path) -> bool:
    """Whether ``path`` (a file, or the first of a list) is a CRAM, judged by its magic."""
    first = path if isinstance(path, (str, os.PathLike)) else next(iter(path), None)
    if first is None:
        return False
    first = os.fspath(first)
    if os.path.isdir(first) or any(ch in first for ch in "*?["):
        return False
    try:
        return is_cram(first)
    except OSError:
        return False  # missing or unreadable: the BAM path reports it


def cram_options(split_size=None, **options) -> dict:
    """Data source options from loader keywords; unknown keywords are an error."""
    unknown = sorted(set(options) - set(CRAM_KEYWORDS) - {"method"})
    if unknown:
        raise ConfigError(f"option(s) {', '.join(unknown)} do not apply to CRAM; "
                          f"known: split_size, {', '.join(CRAM_KEYWORDS)}")
    given = {"splitSize": str(DEFAULT_SPLIT_SIZE if split_size is None else split_size)}
    for keyword, name in CRAM_KEYWORDS.items():
        if options.get(keyword) is not None:
            value = options[keyword]
            given[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return given


def _path_option(path):
    import json

    if isinstance(path, (str, os.PathLike)):
        return {"path": os.fspath(path)}
    return {"paths": json.dumps([os.fspath(item) for item in path])}


def load_cram(spark, path, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the reads of a CRAM (or list of CRAMs), through ``format("cram")``."""
    from .cram_source import FORMAT, register_cram
    from .plan import ColumnPlan

    register_cram(spark)
    reader = spark.read.format(FORMAT).options(**cram_options(split_size, **options))
    reader = reader.schema(ColumnPlan.of(columns).spark_schema())
    argument = _path_option(path)
    return reader.load(argument["path"]) if "path" in argument else reader.load(list(path))


def cram_split_rows(spark, path, split_size=None, count: bool = False, **options) -> list:
    """``(path, range_start, range_end, first container offset, records)`` per partition."""
    from .cram_source import SPLITS_FORMAT, CramLoad, cram_split_row, register_cram

    given = cram_options(split_size, **options)
    if is_connect(spark):
        register_cram(spark)
        reader = spark.read.format(SPLITS_FORMAT).options(**given).option("count", str(count).lower())
        argument = _path_option(path)
        frame = reader.load(argument["path"]) if "path" in argument else reader.load(list(path))
        return [tuple(row) for row in frame.collect()]
    tasks = CramLoad.from_options({**given, **_path_option(path)}).tasks()
    return spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).map(partial(cram_split_row, count=count)).collect()


def count_cram_reads(spark, path, split_size=None, **options) -> int:
    """Records in the CRAM(s): the sum of the owned container headers' counts, nothing decoded."""
    return sum(row[4] for row in cram_split_rows(spark, path, split_size, count=True, **options))


def compute_cram_splits(spark, path, split_size=None, **options) -> List[Split]:
    """The splits of one CRAM: ``Split(Pos(first container, 0), Pos(next split's, 0))``, the
    last ending at ``Pos(file size, 0)``; found on the executors (or from the ``.crai``)."""
    rows = cram_split_rows(spark, path, split_size, count=False, **options)
    if len({row[0] for row in rows}) != 1:
        raise ConfigError(f"compute_splits takes one CRAM; {path!r} names {len({row[0] for row in rows})}")
    rows.sort(key=lambda row: row[1])
    starts = [None if row[3] is None else Pos(row[3], 0) for row in rows]
    file_size = _file_size(rows[0][0])
    return splits_from_starts(starts, file_size)


def _file_size(path: str) -> int:
    from ..channel import open_channel

    with open_channel(path) as channel:
        return channel.size
