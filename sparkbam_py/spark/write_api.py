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
from .session import has_python_data_sources, is_connect, make_active_for_writes, require_python_data_sources

# Spark's DDL of mapInArrow's output: one pickled PartSummary per task.
SUMMARY_SCHEMA = "summary binary"
ENGINES = ("auto", "datasource", "arrow")


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
        engine: ``"datasource"`` (``df.write.format("bam")``: Spark >= 4, also over
            Connect), ``"arrow"`` (``mapInArrow``, any Spark), or ``"auto"`` (the data
            source where the session has one, else ``"arrow"``).

    Returns:
        A dict summarising what was written: ``path``, and ``records`` for one BAM (the
        ``arrow`` engine adds ``bytes``, ``parts`` and the ``indexes``).

    Raises:
        HeaderMismatchError: a reference the rows name is not in the header.
        SparkVersionError: ``engine="datasource"`` on Spark 3.5.
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
    engine = chosen_engine(df.sparkSession, engine)
    if engine == "datasource":
        return _write_through_datasource(df, path, header, **settings)
    job = WriteJob.create(path, header, **settings)
    try:
        rows = df.mapInArrow(arrow_write_task(job), SUMMARY_SCHEMA).collect()
    except BaseException:
        abort(job)
        raise
    return commit(job, [pickle.loads(row.summary) for row in rows])


def chosen_engine(spark, engine: str, what: str = "write_bam") -> str:
    """``"datasource"`` or ``"arrow"`` for a writer's ``engine=``.

    ``"auto"``: the data source under Spark Connect (where it has one), whose commit must run
    on the server, beside the output; ``mapInArrow`` in a classic session, whose driver is
    this process: the commit runs here, with the library already imported, where the data
    source would plan and commit in Python processes of their own, each importing it again
    (a cold write of the bench VCF, ``bench/bench_text_write.py``: 20.4 -> 15.7 s).
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "auto":
        return "datasource" if is_connect(spark) and has_python_data_sources(spark) else "arrow"
    if engine == "datasource":
        require_python_data_sources(spark, f'{what}(engine="datasource")', 'use engine="arrow"')
    return engine


def arrow_write_task(job):
    """The ``mapInArrow`` body writing each partition as one part of ``job`` (any write job)."""
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
    make_active_for_writes(spark)
    df.write.format("bam").options(**options).mode("overwrite").save(path)
    if sharded:
        return {"path": path, "sharded": True}
    from ..index.sbi import read_sbi

    return {"path": path, "sharded": False, "records": read_sbi(path + ".sbi").record_count}


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
