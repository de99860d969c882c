"""``write_vcf``, ``write_bed``, ``write_gff``, ``write_tsv``: a DataFrame as one bgzipped,
tabix-indexed file (or shards), written in parallel.

Each runs the format's write (:mod:`sparkbam_py.formats.text_write`): a part per task, one
commit.  ``engine="auto"`` goes through ``mapInArrow`` in a classic session (the commit runs
here, reading the parts through fsspec) and through the Python data source under Spark
Connect on Spark >= 4 (the commit runs on the server); ``"datasource"`` and ``"arrow"``
choose.  Rows reach the writers in Arrow batches cut by rows alone
(:mod:`.arrow_handoff`: Spark 4's byte cap costs more than the writing).  ``sort=True`` range-partitions and sorts the rows first (contigs in the header's
order, or ``contigs``; others after them by name; then start and end), so the file is
in the order tabix needs.
"""
from __future__ import annotations

import pickle
from typing import Dict, Optional, Sequence

from ..errors import ConfigError
from ..formats.text_write import contig_order, line_writer_for, open_text_write
from ..write.job import check_backend, check_level, filesystem
from ..write.text_commit import TABIX_SUFFIXES, UnsortedOutputError
from .arrow_handoff import rows_only_batches
from .schemas import arrow_with_metadata
from .session import make_active_for_writes
from .write_api import SUMMARY_SCHEMA, arrow_write_task, chosen_engine

_RANK = "_sparkbam_contig_rank"
_NAME = "_sparkbam_contig_name"


def write_vcf(df, path: str, *, header_from: Optional[str] = None, header: Optional[str] = None, **keywords) -> dict:
    """Write rows of Glow's variant schema (what ``spark.read.format("vcf")`` gives, or a
    subset holding ``contigName``, ``start``, ``referenceAllele``) as a bgzipped VCF.

    The header is ``header_from``'s (a VCF) or ``header`` (text), completed with the INFO and
    FORMAT lines the columns need; else it is built from the schema and its Glow metadata.
    Samples come from the header, else from the rows' ``sampleId``.  See :func:`write_text`
    for ``sort``, ``sharded``, ``index``, ``overwrite``, ``append``, ``engine``.
    """
    return write_text("vcf", df, path, {"headerFrom": header_from, "header": header}, **keywords)


def write_bed(df, path: str, *, header_from: Optional[str] = None, header: Optional[str] = None,
              bed_columns: Optional[int] = None, **keywords) -> dict:
    """Write rows of the ``bed`` reader's columns (``chrom``, ``start``, ``end``, ...) as a
    bgzipped BED; ``bed_columns`` fixes the columns per line (else each line ends at its
    last non-null column)."""
    return write_text("bed", df, path, {"headerFrom": header_from, "header": header, "bedColumns": bed_columns},
                      **keywords)


def write_gff(df, path: str, *, header_from: Optional[str] = None, header: Optional[str] = None,
              flavor: Optional[str] = None, **keywords) -> dict:
    """Write rows of the ``gff`` reader's columns as bgzipped GFF3 or GTF (``flavor``, else the
    header's ``##gff-version``, else ``.gtf`` in the path, else GFF3)."""
    return write_text("gff", df, path, {"headerFrom": header_from, "header": header, "gffFlavor": flavor},
                      **keywords)


def write_tsv(df, path: str, *, seq_column: int = 1, begin_column: int = 2, end_column: int = 0,
              zero_based: bool = False, header_from: Optional[str] = None, header: Optional[str] = None,
              **keywords) -> dict:
    """Write any scalar columns as a bgzipped TSV indexed on the 1-based column numbers
    ``seq_column``/``begin_column``/``end_column`` (0: none), as ``tabix -s -b -e`` does; the
    begin column holds 0-based starts, written 1-based unless ``zero_based``."""
    options = {"seqColumn": seq_column, "beginColumn": begin_column, "endColumn": end_column,
               "zeroBased": str(zero_based).lower(), "headerFrom": header_from, "header": header}
    return write_text("tabix", df, path, options, **keywords)


def write_text(format_name: str, df, path: str, format_options: Dict[str, object], *, sort: bool = False,
               contigs: Optional[Sequence[str]] = None, sharded: bool = False, index=True,
               overwrite: bool = False, append: bool = False, compression_level: Optional[int] = None,
               deflate: str = "", partitions: Optional[int] = None, engine: str = "auto") -> dict:
    """The shared body of the ``write_*`` functions.

    ``sort``: order the rows first (see the module doc).  ``sharded``: a folder of files,
    one per partition, each indexed.  ``index``: True (``.tbi``, ``.csi`` past 2^29),
    ``"csi"`` or False; rows out of tabix order are refused with UnsortedOutputError.
    ``append``: add shards to an existing sharded folder.  ``compression_level`` (0..9,
    default 6, bgzip's) and ``deflate`` (``"libdeflate"``, default where installed: bgzip's
    bytes; ``"isal"``: faster, larger; ``"zlib"``) as for ``write_bam``.  Returns what was written.
    """
    engine = chosen_engine(df.sparkSession, engine, f"write_{format_name}")
    check_backend(deflate)  # refused here, before Spark wraps the error in its own
    if compression_level is not None:
        check_level(compression_level)
    options = {key: str(value) for key, value in format_options.items() if value is not None}
    options.update(path=path, sharded=str(sharded).lower(), index=str(index).lower())
    if contigs:
        options["contigs"] = ",".join(contigs)
    if compression_level is not None:
        options["compressionLevel"] = str(compression_level)
    if deflate:
        options["deflate"] = deflate
    schema = arrow_with_metadata(df.schema)
    lowered = {key.lower(): value for key, value in options.items()}
    writer = line_writer_for(format_name, lowered, schema)
    if sort:
        df = sort_rows(df, writer.contig_column, writer.start_column, writer.end_column,
                       contig_order(writer, lowered), partitions)
    fs, local = filesystem(path)
    if fs.exists(local) and not (overwrite or append):
        raise ConfigError("the output exists; pass overwrite=True to replace it (or append=True to add shards)", path)
    with rows_only_batches(df.sparkSession, writer.nested_per_row):
        if engine == "datasource":
            return _through_datasource(format_name, df, path, options, overwrite)
        job = open_text_write(format_name, options, overwrite, schema, append=append, writer=writer)
        try:
            rows = df.mapInArrow(arrow_write_task(job.job), SUMMARY_SCHEMA).collect()
        except BaseException:
            job.abort()
            raise
    return job.commit([pickle.loads(row.summary) for row in rows])


def _through_datasource(format_name: str, df, path: str, options: Dict[str, str], overwrite: bool) -> dict:
    from .api import register

    register(df.sparkSession)
    make_active_for_writes(df.sparkSession)
    given = {key: value for key, value in options.items() if key != "path"}
    try:
        df.write.format(format_name).options(**given).mode("overwrite" if overwrite else "append").save(path)
    except Exception as error:  # Spark wraps the commit's error in its own: give ours back
        marker = f"{UnsortedOutputError.__name__}: "
        if marker in str(error):
            raise UnsortedOutputError(str(error).split(marker, 1)[1].split("\n", 1)[0]) from error
        raise
    fs, local = filesystem(path)
    if fs.isdir(local):
        return {"path": path, "shards": sorted(name for name in fs.ls(local, detail=False)
                                               if not name.endswith(TABIX_SUFFIXES))}
    return {"path": path, "indexes": [path + suffix for suffix in TABIX_SUFFIXES if fs.exists(local + suffix)]}


def sort_rows(df, contig: str, start: str, end: Optional[str], order: Sequence[str], partitions: Optional[int]):
    """``df`` range-partitioned and sorted by (contig's place in ``order``, then the contig's
    name for the rest), start, end."""
    from pyspark.sql import functions as F

    if order:
        ranks = df.sparkSession.createDataFrame([(name, rank) for rank, name in enumerate(order)],
                                                f"{_NAME} string, {_RANK} int")
        keyed = df.join(F.broadcast(ranks), df[contig] == ranks[_NAME], "left").drop(_NAME)
        keyed = keyed.withColumn(_RANK, F.coalesce(F.col(_RANK), F.lit(len(order))))
    else:
        keyed = df.withColumn(_RANK, F.lit(0))
    keys = [F.col(_RANK), F.col(contig), F.col(start)] + ([F.col(end)] if end and end in df.columns else [])
    ranged = keyed.repartitionByRange(partitions, *keys) if partitions else keyed.repartitionByRange(*keys)
    return ranged.sortWithinPartitions(*keys).drop(_RANK)

