"""Loader functions for the text formats, on any session: ``load_vcf``, ``load_bed``,
``load_gff``, ``load_tabix`` and ``load_lines``.

Each returns the DataFrame ``spark.read.format(<format>)`` gives for the same path and
options (``regions="chr1:1-1000"`` reads through the tabix index...), and works where that
data source does not: on Spark 3.5, whose sessions have no Python data sources, it runs the
format's own tasks through ``mapInArrow`` (as :func:`~.api.load_reads` does); on Spark 4 and
Spark Connect it loads through the data source.  ``method`` forces one way
(``"datasource"`` or ``"mapInArrow"``).  Options are the data source's, in snake case
(``include_sample_ids=False``, ``bed_columns=6``); ``columns`` picks columns as ``select``
would, ``file_position``/``file_path`` among them if asked for.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..bam.columns import EXTRA_COLUMNS
from ..errors import ConfigError
from ..formats import LINE_FORMATS, format_for, format_named
from ..formats.paths import PathsArgument
from .api import load_format

# What a file of no specific text format sniffs as: a BED named .txt.gz is one of these, so
# load_bed reads it (as format("bed") does), while a VCF given to load_bed is refused.
GENERIC_TEXT = ("tabix", "bgzf_text")


def load_vcf(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the variants of VCFs (Glow's columns: ``contigName``, ``start``,
    ``end``, ``INFO_*``, ``genotypes``...); options ``include_sample_ids``, ``samples``,
    ``flatten_info_fields``, ``mode``, ``regions`` and those every text format takes."""
    return _load_text(spark, path, "vcf", "load_vcf", split_size, columns, options)


def load_bed(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the intervals of BED files; options ``bed_columns``, ``mode``, ``regions``..."""
    return _load_text(spark, path, "bed", "load_bed", split_size, columns, options)


def load_gff(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the features of GFF3/GTF files; options ``gff_flavor``, ``mode``, ``regions``..."""
    return _load_text(spark, path, "gff", "load_gff", split_size, columns, options)


def load_tabix(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the rows of tabix-indexed TSV files; options ``schema`` (a DDL string
    naming and typing the file's columns, for a file without a ``#`` header line: the data
    source's ``columns`` option is this loader's selection), ``seq_column``,
    ``begin_column``, ``end_column``, ``zero_based``, ``mode``, ``regions``..."""
    return _load_text(spark, path, "tabix", "load_tabix", split_size, columns, options)


def load_lines(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame with one ``line`` per line of bgzipped (or gzip, or plain) text;
    ``include_header_lines=True`` keeps the leading ``#`` lines."""
    return _load_text(spark, path, "bgzf_text", "load_lines", split_size, columns, options)


def _load_text(spark, path: PathsArgument, format_name: str, entry: str, split_size, columns, options: dict):
    """The format's whole rows, narrowed by ``select``: a text data source parses every
    column of a line whatever is asked for, so projecting afterwards costs nothing, and
    both ways of loading give one DataFrame.  ``load_lines`` and ``load_tabix`` take every
    line format (a VCF's lines, a BED's tabix rows); the others their own or a generic one."""
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a list of names, not the string {columns!r}")
    for extra in EXTRA_COLUMNS:  # file_position -> include_file_position=True
        if columns is not None and extra in columns:
            options.setdefault(f"include_{extra}", True)
    taken = LINE_FORMATS if format_name in GENERIC_TEXT else (format_name,) + GENERIC_TEXT
    format_for(path, taken, entry)  # refuses BAM, CRAM and other specific formats, naming them
    frame = load_format(spark, path, format_named(format_name), entry, None, split_size, options)
    if columns is None:
        return frame
    unknown = [name for name in columns if name not in frame.columns]
    if unknown or not columns:
        raise ConfigError(f"unknown column(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                          f"valid columns are {', '.join(frame.columns)}")
    return frame.select(*columns)
