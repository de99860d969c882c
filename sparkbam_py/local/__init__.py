"""The Spark-free driver: the executor code run in this process or in local worker processes.

    import sparkbam_py
    table = sparkbam_py.read_table("sample.bam", columns=["query_name", "flag"], workers=2)
    for batch in sparkbam_py.iter_batches("runs/*.bam", split_size="64m"):
        ...
    sparkbam_py.convert_local("sample.bam", "sample.parquet", workers=2)

``convert_local`` is imported on first use: its Parquet, Delta and fsspec writers (and pandas,
which they pull in) cost a ``read_table`` process ~0.1-0.2 CPU s it has no use for.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .reader import iter_batches, read_table

__all__ = ["convert_local", "iter_batches", "read_table"]


def __getattr__(name: str):
    if name == "convert_local":
        from .convert import convert_local

        return convert_local
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .convert import convert_local
