"""``spark.read.format("bgzf_text" | "vcf" | "bed" | "gff" | "tabix")``: Python data sources
over bgzipped (or plain) text, yielding Arrow batches; Spark Connect-ready like ``bam``.

``partitions()`` runs on the driver: it lists the files, reads the first file's header, and
plans byte ranges (or, with ``regions``, index chunks balanced by bytes).  ``read()`` runs
on the executors: each range finds its first line, reads to its end and verifies its
neighbour; the format's parser (``sparkbam_py.text.formats``) turns the lines into columns.

Options shared by all: ``splitSize``, ``bgzfBlocksToCheck``, ``verifySplits`` (as for
``bam``), ``regions`` (``"chr1:1-1000,chr2"``: only records overlapping them, through the
tabix index), ``includeFilePosition``/``includeFilePath`` (add ``file_position``, the line's
virtual offset, and ``file_path``).  ``bgzf_text`` adds ``includeHeaderLines``; the formats
take their parser's options (see ``handoff``/README: ``includeSampleIds``, ``samples``,
``flattenInfoFields``, ``bedColumns``, ``gffFlavor``, ``schema``, ``columns``,
``seqColumn``, ``beginColumn``, ``endColumn``, ``zeroBased``, ``mode``).
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Mapping, Tuple

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..config import parse_size
from ..errors import ConfigError
from ..intervals.filters import split_intervals
from ..text.read import FileHeader, TextUnit, iter_unit_lines, plan_units, read_file_header, tabix_config
from .plan import EXTRA_COLUMNS, FILE_PATH, FILE_POSITION, parse_bool, paths_from_options

SHARED_OPTIONS = ("path", "paths", "splitsize", "bgzfblockstocheck", "verifysplits", "regions",
                  "includefileposition", "includefilepath")
FORMAT_OPTIONS: Dict[str, Tuple[str, ...]] = {
    "bgzf_text": ("includeheaderlines",),
    "vcf": ("includesampleids", "samples", "flatteninfofields", "mode"),
    "bed": ("bedcolumns", "mode"),
    "gff": ("gffflavor", "mode"),
    "tabix": ("schema", "columns", "seqcolumn", "begincolumn", "endcolumn", "zerobased", "mode"),
}
LINE_COLUMN = "line"


class TextOptions:
    """The options of one text load, checked on the driver (a typo must not pass silently)."""

    def __init__(self, format_name: str, options: Mapping[str, str]):
        given = {key.lower(): value for key, value in options.items()}
        known = set(SHARED_OPTIONS) | set(FORMAT_OPTIONS[format_name])
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)} for format {format_name!r}; "
                              f"known: {', '.join(sorted(known - {'path', 'paths'}))}")
        self.format_name = format_name
        self.paths = paths_from_options(options)
        self.split_size = parse_size(given.get("splitsize", "32m"))
        self.blocks_to_check = int(given["bgzfblockstocheck"]) if "bgzfblockstocheck" in given else None
        self.verify = parse_bool("verifySplits", given.get("verifysplits", "true"))
        self.regions = split_intervals(given["regions"]) if "regions" in given else None
        self.with_position = parse_bool("includeFilePosition", given.get("includefileposition", "false"))
        self.with_path = parse_bool("includeFilePath", given.get("includefilepath", "false"))
        self.include_header = parse_bool("includeHeaderLines", given.get("includeheaderlines", "false"))
        self.parser_options = {key: value for key, value in options.items()
                               if key.lower() in FORMAT_OPTIONS[format_name]}


class TextInputPartition(InputPartition):
    """One unit of work (byte ranges or a region partition) and the file's header."""

    def __init__(self, unit: TextUnit, header: FileHeader, parsed_header):
        super().__init__(unit.path)
        self.unit = unit
        self.header = header
        self.parsed_header = parsed_header


def _header_of(path: str, options: TextOptions) -> FileHeader:
    """Header lines by the tabix index's meta/skip when there is one, else by prefixes."""
    from ..text.bed import HEADER_PREFIXES as BED_HEADER_PREFIXES  # comments, track and browser lines

    config = tabix_config(path)
    prefixes = BED_HEADER_PREFIXES if options.format_name == "bed" else (config.meta,) if config else ("#",)
    return read_file_header(path, prefixes, config.skip if config else 0)


def _parser_options(path: str, options: TextOptions) -> Dict[str, str]:
    """The parser's options; for ``tabix``, the index's columns unless given."""
    parser_options = dict(options.parser_options)
    if options.format_name == "tabix":
        config = tabix_config(path)
        given = {key.lower() for key in parser_options}
        if config is not None and "seqcolumn" not in given:
            parser_options.update(seqColumn=str(config.col_seq), beginColumn=str(config.col_beg),
                                  endColumn=str(config.col_end), zeroBased=str(config.zero_based).lower())
    return parser_options


class TextDataSource(DataSource):
    """Base of the text data sources; subclasses name a format of ``text.formats``."""

    format_name = "bgzf_text"

    @classmethod
    def name(cls) -> str:
        return cls.format_name

    def _setup(self):
        options = TextOptions(self.format_name, self.options)
        header = _header_of(options.paths[0], options)
        parsed, arrow = None, pa.schema([pa.field(LINE_COLUMN, pa.string(), False)])
        if self.format_name != "bgzf_text":
            from ..text.formats import FORMATS

            text_format = FORMATS[self.format_name]
            parser_options = _parser_options(options.paths[0], options)
            parsed = text_format.parse_header(list(header.lines), parser_options)
            arrow = text_format.schema(parsed, parser_options)
        for name, wanted in ((FILE_POSITION, options.with_position), (FILE_PATH, options.with_path)):
            if wanted:
                arrow = arrow.append(pa.field(name, *EXTRA_COLUMNS[name]))
        return options, header, parsed, arrow

    def schema(self):
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(self._setup()[3])

    def reader(self, schema) -> "TextReader":
        return TextReader(self.format_name, self._setup())


class TextReader(DataSourceReader):
    def __init__(self, format_name: str, setup):
        self.format_name = format_name
        self.options, self.header, self.parsed_header, self.arrow_schema = setup

    def partitions(self) -> List[InputPartition]:
        options = self.options
        partitions = []
        for path in options.paths:
            header, parsed = self._header_for(path)
            units = plan_units([path], options.split_size, options.regions, options.verify, options.blocks_to_check)
            partitions += [TextInputPartition(unit, None if options.include_header else header, parsed)
                           for unit in units]
        return partitions or [InputPartition(None)]  # Spark wants at least one

    def _header_for(self, path: str):
        """Each file's own header (a VCF's samples differ by file); its schema must be the
        first file's, else the load fails here rather than mixing columns."""
        if path == self.options.paths[0]:
            return self.header, self.parsed_header
        header = _header_of(path, self.options)
        if self.format_name == "bgzf_text":
            return header, None
        from ..text.formats import FORMATS

        text_format = FORMATS[self.format_name]
        parser_options = _parser_options(path, self.options)
        parsed = text_format.parse_header(list(header.lines), parser_options)
        schema = text_format.schema(parsed, parser_options)
        first = self.arrow_schema
        if not schema.equals(pa.schema([first.field(n) for n in first.names if n in schema.names])):
            raise ConfigError(f"{path} has another schema than {self.options.paths[0]} (different header "
                              "fields or samples); load them separately")
        return header, parsed

    def read(self, partition) -> Iterator[pa.RecordBatch]:
        if not isinstance(partition, TextInputPartition):
            return iter(())
        return read_text_batches(self.format_name, partition, self.options, self.arrow_schema)


def read_text_batches(format_name: str, partition: TextInputPartition, options: TextOptions,
                      schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The partition's lines (or parsed records) as batches of exactly ``schema``."""
    from ..text.format import LineSource

    unit = partition.unit
    parser_options = _parser_options(unit.path, options) if format_name != "bgzf_text" else {}
    text_format = None
    if format_name != "bgzf_text":
        from ..text.formats import FORMATS

        text_format = FORMATS[format_name]
    for chunk, lines in iter_unit_lines(unit, partition.header):
        positions = chunk.positions()
        if text_format is None:
            columns = {LINE_COLUMN: lines}
        else:
            where = LineSource(unit.path, positions, chunk.bgzf)
            batch = text_format.parse(lines, partition.parsed_header, parser_options, where)
            columns = {name: batch.column(name) for name in batch.schema.names}
        columns[FILE_POSITION] = pa.array(positions, pa.int64())
        columns[FILE_PATH] = pa.array([unit.path] * len(lines), pa.string())
        yield pa.RecordBatch.from_arrays([columns[name] for name in schema.names], schema=schema)


class TextPushdownReader(TextReader):
    """A TextReader that reads only the tabix regions that filters on the format's contig
    and start columns allow (one file with a tabix index, no ``regions`` option)."""

    def pushFilters(self, filters):
        filters = list(filters)
        options = self.options
        if options.regions is None and len(options.paths) == 1 and self.parsed_header is not None:
            from ..index.tabix import find_tabix_path, read_tabix
            from ..text.filters import regions_from_text_filters

            index_path = find_tabix_path(options.paths[0])
            if index_path is not None:
                contig = getattr(self.parsed_header, "contig_column", None)
                start = getattr(self.parsed_header, "start_column", None)
                options.regions = regions_from_text_filters(filters, contig, start, read_tabix(index_path))
        # The regions select a superset of the matching records: Spark still applies every filter.
        return filters


class TextPushdownDataSource(TextDataSource):
    """A text format with filter pushdown (``register(spark, pushdown=True)``)."""

    def reader(self, schema) -> "TextPushdownReader":
        return TextPushdownReader(self.format_name, self._setup())


def _format_source(format_name: str, base: type = TextDataSource) -> type:
    return type(f"{format_name.capitalize()}DataSource", (base,), {"format_name": format_name,
                "__doc__": f"``spark.read.format({format_name!r})`` (see the module doc)."})


BgzfTextDataSource = _format_source("bgzf_text")
VcfDataSource = _format_source("vcf")
BedDataSource = _format_source("bed")
GffDataSource = _format_source("gff")
TabixDataSource = _format_source("tabix")
TEXT_SOURCES = (BgzfTextDataSource, VcfDataSource, BedDataSource, GffDataSource, TabixDataSource)
PUSHDOWN_SOURCES = tuple(_format_source(name, TextPushdownDataSource) for name in ("vcf", "bed", "gff", "tabix"))


def register_text_sources(spark, pushdown: bool = False) -> None:
    """Make the five text formats available in ``spark``; with ``pushdown``, filters on the
    contig and start columns read only the tabix regions they allow."""
    for source in (TEXT_SOURCES[:1] + PUSHDOWN_SOURCES) if pushdown else TEXT_SOURCES:
        spark.dataSource.register(source)
