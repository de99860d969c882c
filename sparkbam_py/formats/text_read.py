"""A read of bgzipped (or plain) text: headers on the driver, lines parsed on the executors.

The driver reads each file's header (by the tabix index's ``meta``/``skip`` when there is an
index, else by prefixes) and plans byte ranges, or, with ``regions``, index chunks balanced
by bytes.  Each task finds its first line, reads to its range's end and verifies its
neighbour; the format's parser (:class:`~sparkbam_py.text.format.TextFormat`) turns the lines
into columns.  Every file's schema must be the first file's (a VCF's samples differ by file).

Options shared by all text formats: ``splitSize``, ``bgzfBlocksToCheck``, ``verifySplits``,
``regions`` (``"chr1:1-1000,chr2"``: records overlapping them, through the tabix index),
``includeFilePosition``/``includeFilePath`` (add ``file_position``, the line's virtual
offset, and ``file_path``); each format adds its parser's (:data:`FORMAT_OPTIONS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

from ..bam.columns import EXTRA_COLUMNS, FILE_PATH
from ..bam.schema import FILE_POSITION
from ..config import parse_bool, parse_size
from ..errors import ConfigError
from ..intervals.filters import split_intervals
from ..text.bed import HEADER_PREFIXES as BED_HEADER_PREFIXES
from ..text.format import LineSource, TextFormat
from ..text.read import FileHeader, TextUnit, iter_unit_lines, plan_units, read_file_header, tabix_config
from .paths import paths_from_options
from .protocol import Columns

SHARED_OPTIONS = ("splitSize", "bgzfBlocksToCheck", "verifySplits", "regions", "includeFilePosition",
                  "includeFilePath")
FORMAT_OPTIONS: Dict[str, Tuple[str, ...]] = {
    "bgzf_text": ("includeHeaderLines",),
    "vcf": ("includeSampleIds", "samples", "flattenInfoFields", "mode"),
    "bed": ("bedColumns", "mode"),
    "gff": ("gffFlavor", "mode"),
    "tabix": ("schema", "columns", "seqColumn", "beginColumn", "endColumn", "zeroBased", "mode"),
}


def option_names(format_name: str) -> Tuple[str, ...]:
    """The options a text format takes (camelCase; Spark matches them case-insensitively)."""
    return SHARED_OPTIONS + FORMAT_OPTIONS[format_name]
LINE_COLUMN = "line"


class TextOptions:
    """The options of one text read, checked on the driver (a typo must not pass silently)."""

    def __init__(self, text_format, options: Mapping[str, str]):
        name = text_format.name
        given = {key.lower(): value for key, value in options.items()}
        known = {option.lower() for option in option_names(name)} | {"path", "paths"}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)} for format {name!r}; "
                              f"known: {', '.join(sorted(known - {'path', 'paths'}))}")
        self.format_name = name
        self.paths = paths_from_options(options, name, text_format.suffixes, text_format.title)
        self.split_size = parse_size(given.get("splitsize", "32m"))
        self.blocks_to_check = int(given["bgzfblockstocheck"]) if "bgzfblockstocheck" in given else None
        self.verify = parse_bool("verifySplits", given.get("verifysplits", "true"))
        self.regions = split_intervals(given["regions"]) if "regions" in given else None
        self.with_position = parse_bool("includeFilePosition", given.get("includefileposition", "false"))
        self.with_path = parse_bool("includeFilePath", given.get("includefilepath", "false"))
        self.include_header = parse_bool("includeHeaderLines", given.get("includeheaderlines", "false"))
        own = {option.lower() for option in FORMAT_OPTIONS[name]}
        self.parser_options = {key: value for key, value in options.items() if key.lower() in own}


@dataclass(frozen=True)
class TextSplit:
    """One unit of work (byte ranges or a region partition), with its file's header (None:
    header lines are data) and the parser's reading of that header."""

    unit: TextUnit
    header: Optional[FileHeader]
    parsed_header: Any

    @property
    def path(self) -> str:
        return self.unit.path


class TextRead:
    """A read of text files of one format; ``parser`` is None for plain lines."""

    def __init__(self, text_format, options: Mapping[str, str], columns: Columns = None):
        self.parser: Optional[TextFormat] = text_format.parser
        self.options = TextOptions(text_format, options)
        self.header, self.parsed_header, arrow = self._header_and_schema(self.options.paths[0])
        if columns is None or isinstance(columns, pa.Schema):  # a Spark schema: the format's own, as always
            for name, wanted in ((FILE_POSITION, self.options.with_position), (FILE_PATH, self.options.with_path)):
                if wanted:
                    arrow = arrow.append(pa.field(name, *EXTRA_COLUMNS[name]))
        else:
            arrow = _selected(arrow, columns)
        self.arrow_schema = arrow

    def _header_and_schema(self, path: str):
        header = self._header_of(path)
        if self.parser is None:
            return header, None, pa.schema([pa.field(LINE_COLUMN, pa.string(), False)])
        parser_options = self._parser_options(path)
        parsed = self.parser.parse_header(list(header.lines), parser_options)
        return header, parsed, self.parser.schema(parsed, parser_options)

    def _header_of(self, path: str) -> FileHeader:
        """Header lines by the tabix index's meta/skip when there is one, else by prefixes."""
        config = tabix_config(path)
        prefixes = BED_HEADER_PREFIXES if self.options.format_name == "bed" else (config.meta,) if config else ("#",)
        return read_file_header(path, prefixes, config.skip if config else 0)

    def _parser_options(self, path: str) -> Dict[str, str]:
        """The parser's options; for ``tabix``, the index's columns unless given."""
        parser_options = dict(self.options.parser_options)
        if self.options.format_name == "tabix":
            config = tabix_config(path)
            given = {key.lower() for key in parser_options}
            if config is not None and "seqcolumn" not in given:
                parser_options.update(seqColumn=str(config.col_seq), beginColumn=str(config.col_beg),
                                      endColumn=str(config.col_end), zeroBased=str(config.zero_based).lower())
        return parser_options

    def tasks(self) -> List[TextSplit]:
        options, splits = self.options, []
        for path in options.paths:
            header, parsed = self._header_for(path)
            units = plan_units([path], options.split_size, options.regions, options.verify, options.blocks_to_check)
            splits += [TextSplit(unit, None if options.include_header else header, parsed) for unit in units]
        return splits

    def _header_for(self, path: str):
        """Each file's own header; its schema must be the first file's, else the read fails
        here rather than mixing columns."""
        if path == self.options.paths[0]:
            return self.header, self.parsed_header
        header, parsed, schema = self._header_and_schema(path)
        first = self.arrow_schema
        if self.parser is not None and not schema.equals(
                pa.schema([first.field(n) for n in first.names if n in schema.names])):
            raise ConfigError(f"{path} has another schema than {self.options.paths[0]} (different header "
                              "fields or samples); load them separately")
        return header, parsed

    def read(self, task: TextSplit, batch_bytes: Optional[int] = None) -> Iterator[pa.RecordBatch]:
        """The task's lines (or parsed records) as batches of exactly ``arrow_schema``."""
        unit, schema = task.unit, self.arrow_schema
        parser_options = self._parser_options(unit.path) if self.parser is not None else {}
        for chunk, lines in iter_unit_lines(unit, task.header):
            positions = chunk.positions()
            if self.parser is None:
                columns = {LINE_COLUMN: lines}
            else:
                where = LineSource(unit.path, positions, chunk.bgzf)
                batch = self.parser.parse(lines, task.parsed_header, parser_options, where)
                columns = {name: batch.column(name) for name in batch.schema.names}
            columns[FILE_POSITION] = pa.array(positions, pa.int64())
            columns[FILE_PATH] = pa.array([unit.path] * len(lines), pa.string())
            yield pa.RecordBatch.from_arrays([columns[name] for name in schema.names], schema=schema)

    def count(self, task: TextSplit) -> int:
        """Data lines (every line with ``includeHeaderLines``); nothing parsed."""
        return sum(len(lines) for _, lines in iter_unit_lines(task.unit, task.header))

    def push_filters(self, filters: Sequence[Any]) -> None:
        """Regions from filters on the format's contig and start columns (one file with a
        tabix index, no ``regions`` option)."""
        options = self.options
        if options.regions is not None or len(options.paths) != 1 or self.parsed_header is None:
            return
        from ..index.tabix import find_tabix_path, read_tabix
        from ..text.filters import regions_from_text_filters

        index_path = find_tabix_path(options.paths[0])
        if index_path is not None:
            contig = getattr(self.parsed_header, "contig_column", None)
            start = getattr(self.parsed_header, "start_column", None)
            options.regions = regions_from_text_filters(filters, contig, start, read_tabix(index_path))


def _selected(schema: pa.Schema, columns: Sequence[str]) -> pa.Schema:
    """The named columns of ``schema`` (and ``file_position``/``file_path``), in that order."""
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a list of names, not the string {columns!r}")
    available = {field.name: field for field in schema}
    available.update({name: pa.field(name, *EXTRA_COLUMNS[name]) for name in EXTRA_COLUMNS})
    unknown = [name for name in columns if name not in available]
    if unknown or not columns:
        raise ConfigError(f"unknown column(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                          f"valid columns are {', '.join(available)}")
    return pa.schema([available[name] for name in columns])
