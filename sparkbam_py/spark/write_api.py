"""``sparkbam_py.write_bam(df, path, ...)``: write a DataFrame of reads as BAM.

Imports pyspark only when called (the package imports without it).  See
:mod:`sparkbam_py.spark.sources` for the data source it writes through (``format("bam")``,
options in :mod:`sparkbam_py.formats.bam`), and
:mod:`sparkbam_py.write` for the pyspark-free encoding, parts and commit.
"""
from __future__ import annotations

import json
import pickle
from typing import Optional

from ..errors import ConfigError
from ..write.commit import abort, commit
from ..write.header import WriteHeader, check_references, resolve_header
from ..write.job import WriteJob, filesystem
from ..write.records import check_record_columns, records_of_batch
from ..write.sort_rows import SORT_KEY, SORT_ROWS_DDL, SORT_SEQUENCE, to_sort_rows
from .session import is_connect, spark_major_version

# Spark's DDL of mapInArrow's output: one pickled PartSummary per task.
SUMMARY_SCHEMA = "summary binary"


def write_bam(df, path: str, header=None, *, header_from: Optional[str] = None, sort: bool = False,
              sharded: bool = False, overwrite: bool = False, index: bool = True,
              compression_level: Optional[int] = None, deflate: str = "", sbi_granularity: Optional[int] = None,
              check_refs: bool = True, partitions: Optional[int] = None, engine: str = "auto") -> dict:
    """Write the reads of a DataFrame as one BAM (or one per partition), with its indexes.

    A missing column takes SAM's "unavailable" value; a ``record`` column (the record's bytes
    as read) is written back as stored, with the reference ids set again from the names. The ``.sbi`` and (when coordinate-sorted)
    the ``.bai`` are merged from what each task reports, without a second pass.

    Args:
        df: a DataFrame with the read schema (pysam names), or any subset of it.
        path: the output BAM (a folder with ``sharded``), local or fsspec URL.
        header: SAM header text (or a ``WriteHeader``).
        header_from: a BAM whose header to use instead.
        sort: coordinate-sort first (``SO:coordinate``; unplaced reads last, ties in input
            order, as samtools sort), shuffling compact rows (a 64-bit key and the record's bytes).
        sharded: a folder of complete BAMs, one per partition, instead of one BAM.
        overwrite: replace an existing output (else it is refused).
        index: write ``.bai`` (``.csi`` past 2^29 bases) when the output is coordinate-sorted.
        compression_level: 0..9 (default 6, htslib's).
        deflate: ``"libdeflate"`` (default where the ``deflate`` wheel is installed: htslib's
            bytes at htslib's levels), ``"zlib"`` or ``"isal"`` (faster, larger output).
        sbi_granularity: records between ``.sbi`` entries (default 4096).
        check_refs: first check that every reference the rows name is in the header.
        partitions: with ``sort``, the number of range partitions (default
            ``spark.sql.shuffle.partitions``).
        engine: ``"datasource"`` (Spark >= 4, also over Connect), ``"arrow"``
            (``mapInArrow``; Spark 3.5), or ``"auto"``: the data source where the session's
            Spark has Python data sources, else ``mapInArrow``.

    Returns:
        A dict summarising what was written: ``path``, and ``records`` for one BAM (the
        ``arrow`` engine adds ``bytes``, ``parts`` and the ``indexes``).

    Raises:
        HeaderMismatchError: a reference the rows name is not in the header.
    """
    check_record_columns(df.columns)
    resolved = resolve_header(header, header_from)
    if check_refs:
        check_references(resolved, _named_references(df))
    settings = dict(sharded=sharded, overwrite=overwrite, index=index, level=compression_level, backend=deflate,
                    sbi_granularity=sbi_granularity)
    if sort:
        return write_sorted_rows(sort_by_coordinate(df, resolved, partitions), path, resolved, engine, **settings)
    return _write(df, path, resolved, engine, **settings)


def write_sorted_rows(rows, path: str, header: WriteHeader, engine: str = "auto", **settings) -> dict:
    """Write compact sort rows already in coordinate order (:func:`range_sorted`) under an
    ``SO:coordinate`` header; parts found out of order fail the commit."""
    return _write(rows, path, header.with_sort_order("coordinate"), engine, sorted_output=True, **settings)


def _write(df, path: str, header: WriteHeader, engine: str, **settings) -> dict:
    if engine == "auto":
        from .api import FIRST_DATASOURCE_SPARK

        engine = "datasource" if spark_major_version(df.sparkSession) >= FIRST_DATASOURCE_SPARK else "arrow"
    if engine == "datasource":
        return _write_through_datasource(df, path, header, **settings)
    if engine != "arrow":
        raise ConfigError(f"engine must be 'auto', 'datasource' or 'arrow', not {engine!r}")
    job = WriteJob.create(path, header, **settings)
    try:
        rows = df.mapInArrow(_arrow_task(job), SUMMARY_SCHEMA).collect()
    except BaseException:
        abort(job)
        raise
    return commit(job, [pickle.loads(row.summary) for row in rows])


def _arrow_task(job: WriteJob):
    def write_partition(batches):
        import pyarrow as pa

        from .tasks import task_identity

        partition, attempt = task_identity()
        summary = job.write_part(batches, partition, attempt)
        yield pa.RecordBatch.from_pydict({"summary": [pickle.dumps(summary)]})

    return write_partition


def _write_through_datasource(df, path, header: WriteHeader, *, sharded, overwrite, index, level, backend,
                              sbi_granularity, sorted_output: bool = False) -> dict:
    from ..formats.bam import RESOLVED_HEADER_OPTION, SORTED_OUTPUT_OPTION
    from .api import register

    spark = df.sparkSession
    register(spark)
    options = {RESOLVED_HEADER_OPTION: json.dumps({"text": header.text, "names": list(header.reference_names),
                                                   "lengths": list(header.reference_lengths)}),
               "sharded": str(sharded).lower(), "index": str(index).lower(), "deflate": backend,
               SORTED_OUTPUT_OPTION: str(sorted_output).lower()}
    if level is not None:
        options["compressionLevel"] = str(level)
    if sbi_granularity is not None:
        options["sbiGranularity"] = str(sbi_granularity)
    _refuse_existing(path, overwrite)
    _make_active(spark)
    df.write.format("bam").options(**options).mode("overwrite").save(path)
    if sharded:
        return {"path": path, "sharded": True}
    from ..index.sbi import read_sbi

    return {"path": path, "sharded": False, "records": read_sbi(path + ".sbi").record_count}


def _make_active(spark) -> None:
    """Make ``spark`` the active session of the JVM thread this Python thread calls through.

    A write looks a Python data source up in the JVM thread's active session
    (``DataSource.lookupDataSource``), where a read asks the DataFrame's session; a Python
    thread other than the one that made the session calls through a JVM thread that has
    none, so without this ``format("bam")`` would not be found.  Connect's server sets it.
    """
    if not is_connect(spark):
        jvm_session = spark._jvm.org.apache.spark.sql.SparkSession
        jvm_session.setActiveSession(spark._jsparkSession)


def _refuse_existing(path: str, overwrite: bool) -> None:
    fs, local = filesystem(path)
    if fs.exists(local) and not overwrite:
        raise ConfigError("the output exists; pass overwrite=True to replace it", path)


def _named_references(df):
    columns = [c for c in ("reference_name", "next_reference_name") if c in df.columns]
    names = set()
    for column in columns:
        names.update(row[0] for row in df.select(column).distinct().collect())
    return names


def sort_by_coordinate(df, header: WriteHeader, partitions: Optional[int] = None):
    """``df`` as compact rows (:mod:`sparkbam_py.write.sort_rows`) in samtools' coordinate
    order: range-partitioned and sorted within partitions on two longs."""
    names = header.names_array

    def encode_partition(batches):
        from .tasks import task_identity

        return to_sort_rows(batches, lambda batch: records_of_batch(batch, names), task_identity()[0])

    return range_sorted(df.mapInArrow(encode_partition, SORT_ROWS_DDL), partitions)


def range_sorted(compact, partitions: Optional[int] = None):
    """Compact rows range-partitioned and sorted within partitions on (key, input place)."""
    keys = [SORT_KEY, SORT_SEQUENCE]
    ranged = compact.repartitionByRange(partitions, *keys) if partitions else compact.repartitionByRange(*keys)
    return ranged.sortWithinPartitions(*keys)
