"""Driver-side planning shared by every loader: options, columns, and the split tasks.

Options come either as keyword arguments (``load_reads(..., split_size="64m")``) or as the
string options of ``spark.read.format("bam").option("splitSize", "64m")``; both end up in
one :class:`ReadOptions`.  Columns come as a list or as a Spark schema; both end up in one
:class:`ColumnPlan` whose Arrow schema is exactly what the executors produce.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

from ..bam.record_column import RECORD, RECORD_TYPE, record_column
from ..bam.schema import COLUMNS, DEFAULT_COLUMNS, FILE_POSITION, FILE_POSITION_TYPE
from ..bam.typed_tags import TYPED_TAGS, TagSpec, resolve_tag_spec
from ..config import DEFAULT_SPLIT_SIZE, CheckerConfig, parse_size
from ..errors import ConfigError
from ..splits import SplitTask, plan_file
from .paths import PathsArgument, expand_paths

# The source file of each record, when asked for: useful when one load reads many BAMs.
FILE_PATH = "file_path"
EXTRA_COLUMNS: Dict[str, Tuple[pa.DataType, bool]] = {
    FILE_POSITION: (FILE_POSITION_TYPE, False),
    FILE_PATH: (pa.string(), False),
    RECORD: (RECORD_TYPE, False),  # each record's bytes as stored (bam.record_column)
}
# Headers are read on the driver with this many threads (remote stores answer slowly).
HEADER_READ_THREADS = 16

# Data source option names (Spark lower-cases them) and how each is read.
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
PATH_OPTIONS = ("path", "paths")
# option("tags", "NM:i,MD:Z") or "auto[:N]": a typed_tags struct column (see bam.typed_tags).
TAGS_OPTION = "tags"


def parse_bool(name: str, value: str) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"option {name} must be true or false, got {value!r}")


def _parse_count(name: str, value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"option {name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"option {name} must be at least 1, got {value!r}")
    return number


@dataclass(frozen=True)
class ReadOptions:
    """How files are cut and checked; travels inside every task."""

    split_size: int = DEFAULT_SPLIT_SIZE
    config: CheckerConfig = field(default_factory=CheckerConfig)
    verify: bool = True
    use_splitting_index: bool = True

    @classmethod
    def of(cls, split_size=None, reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None,
           verify_splits=True, use_splitting_index=True, verify_checksums=True) -> "ReadOptions":
        defaults = CheckerConfig()
        config = CheckerConfig(
            reads_to_check=defaults.reads_to_check if reads_to_check is None else _parse_count("reads_to_check", reads_to_check),
            max_read_size=defaults.max_read_size if max_read_size is None else _parse_count("max_read_size", max_read_size),
            bgzf_blocks_to_check=(defaults.bgzf_blocks_to_check if bgzf_blocks_to_check is None
                                  else _parse_count("bgzf_blocks_to_check", bgzf_blocks_to_check)),
            verify_checksums=bool(verify_checksums),
        )
        size = DEFAULT_SPLIT_SIZE if split_size is None else parse_size(split_size)
        return cls(size, config, bool(verify_splits), bool(use_splitting_index))

    @classmethod
    def from_options(cls, options: Mapping[str, str], extra: Sequence[str] = ()) -> "ReadOptions":
        """From data source options; unknown names are an error (a typo must not pass silently)."""
        given = {key.lower(): value for key, value in options.items()}
        known = set(_OPTION_KEYWORDS) | set(PATH_OPTIONS) | {TAGS_OPTION} | {name.lower() for name in extra}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_OPTION_NAMES))}")
        keywords = {_OPTION_KEYWORDS[key]: value for key, value in given.items() if key in _OPTION_KEYWORDS}
        if "verify_splits" in keywords:
            keywords["verify_splits"] = parse_bool("verifySplits", keywords["verify_splits"])
        if "use_splitting_index" in keywords:
            keywords["use_splitting_index"] = parse_bool("useSplittingIndex", keywords["use_splitting_index"])
        if "verify_checksums" in keywords:
            keywords["verify_checksums"] = parse_bool("verifyChecksums", keywords["verify_checksums"])
        return cls.of(**keywords)

    def to_options(self) -> Dict[str, str]:
        """The data source options that reproduce these settings."""
        return {
            "splitSize": str(self.split_size),
            "readsToCheck": str(self.config.reads_to_check),
            "maxReadSize": str(self.config.max_read_size),
            "bgzfBlocksToCheck": str(self.config.bgzf_blocks_to_check),
            "verifySplits": str(self.verify).lower(),
            "useSplittingIndex": str(self.use_splitting_index).lower(),
            "verifyChecksums": str(self.config.verify_checksums).lower(),
        }


_OPTION_NAMES = ("splitSize", "readsToCheck", "maxReadSize", "bgzfBlocksToCheck", "verifySplits", "useSplittingIndex",
                 "verifyChecksums")
_OPTION_KEYWORDS = {
    "splitsize": "split_size",
    "readstocheck": "reads_to_check",
    "maxreadsize": "max_read_size",
    "bgzfblockstocheck": "bgzf_blocks_to_check",
    "verifysplits": "verify_splits",
    "usesplittingindex": "use_splitting_index",
    "verifychecksums": "verify_checksums",
}


def paths_from_options(options: Mapping[str, str]) -> List[str]:
    """The ``path`` of ``load(path)``, or the JSON ``paths`` list of ``load([a, b])``."""
    import json

    given = {key.lower(): value for key, value in options.items()}
    if "paths" in given:
        return expand_paths(json.loads(given["paths"]))
    if "path" in given:
        return expand_paths(given["path"])
    raise ConfigError("no path: use spark.read.format('bam').load(path_or_list)")


def plan_reads(paths: PathsArgument, options: ReadOptions) -> List[SplitTask]:
    """Every file's tasks, in file order; headers are read in parallel (and checked here,
    so a file that is not BAM fails before any executor starts)."""
    files = expand_paths(paths)

    def plan(path: str) -> List[SplitTask]:
        return plan_file(path, options.split_size, options.use_splitting_index,
                         config=options.config, verify=options.verify)[1]

    with ThreadPoolExecutor(max_workers=min(HEADER_READ_THREADS, len(files))) as pool:
        return [task for tasks in pool.map(plan, files) for task in tasks]


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns a load produces, in order, and the exact Arrow schema of its batches."""

    arrow_schema: pa.Schema
    record_columns: Tuple[str, ...]
    with_file_position: bool
    with_file_path: bool
    tag_spec: Optional[TagSpec] = None  # set when the typed_tags column is requested

    @classmethod
    def of(cls, columns: Optional[Sequence[str]] = None, with_file_position: bool = False,
           tags: Optional[TagSpec] = None) -> "ColumnPlan":
        names = list(DEFAULT_COLUMNS if columns is None else _as_names(columns))
        if tags is not None and columns is None:
            names.append(TYPED_TAGS)
        if with_file_position and FILE_POSITION not in names:
            names.append(FILE_POSITION)
        return cls._build(pa.schema([pa.field(name, *_column_type(name, tags)) for name in names]), tags)

    @classmethod
    def from_spark_schema(cls, schema, tags: Optional[TagSpec] = None) -> "ColumnPlan":
        """From a user's Spark schema: known names, our types; nullable is fine, but NOT NULL
        on a column that can be null is refused (Spark would trust it and mislead)."""
        from pyspark.sql.pandas.types import to_arrow_schema

        arrow = to_arrow_schema(schema)
        for wanted in arrow:
            ours, nullable = _column_type(wanted.name, tags)
            if not wanted.type.equals(ours):
                raise ConfigError(f"column {wanted.name} is {ours} here, not {wanted.type}")
            if nullable and not wanted.nullable:
                raise ConfigError(f"column {wanted.name} can be null; declare it without NOT NULL")
        return cls._build(arrow, tags)

    @classmethod
    def _build(cls, arrow: pa.Schema, tags: Optional[TagSpec] = None) -> "ColumnPlan":
        names = arrow.names
        if not names:
            raise ConfigError("select at least one column")
        if len(set(names)) != len(names):
            raise ConfigError(f"columns requested more than once in {names}")
        records = tuple(name for name in names if name in COLUMNS)
        return cls(arrow, records, FILE_POSITION in names, FILE_PATH in names,
                   tags if TYPED_TAGS in names else None)

    def spark_schema(self):
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(self.arrow_schema)

    @property
    def with_record(self) -> bool:
        return RECORD in self.arrow_schema.names

    def arrange(self, decoded: pa.RecordBatch, path: str, records=None) -> pa.RecordBatch:
        """The decoded batch's columns (plus ``file_path``, and ``record`` from ``records``:
        the inflated data and the records' starts in it) in this plan's order and schema."""
        if self.with_record and records is None:
            raise ConfigError(f"the {RECORD} column is read from BAM byte ranges only, not by this reader", path)
        arrays = []
        for name in self.arrow_schema.names:
            if name == FILE_PATH:
                arrays.append(pa.array([path] * decoded.num_rows, pa.string()))
            elif name == RECORD:
                arrays.append(record_column(*records))
            else:
                arrays.append(decoded.column(name))
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)


def _as_names(columns: Sequence[str]) -> List[str]:
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a list of names, not the string {columns!r}")
    return list(columns)


def tag_spec_option(options: Mapping[str, str]) -> Optional[TagSpec]:
    """The ``tags`` option's declared (or discovered) typed tags; None without the option."""
    given = {key.lower(): value for key, value in options.items()}
    if TAGS_OPTION not in given:
        return None
    text = given[TAGS_OPTION]
    first = None
    if str(text).strip().lower().startswith("auto"):
        first = next(iter(paths_from_options(options)), None)
    return resolve_tag_spec(text, first)


def _column_type(name: str, tags: Optional[TagSpec] = None) -> Tuple[pa.DataType, bool]:
    if name == TYPED_TAGS:
        if tags is None:
            raise ConfigError(f"column {TYPED_TAGS} needs the tags option (e.g. tags='NM:i,MD:Z' or 'auto')")
        return tags.arrow_type(), False
    if name in COLUMNS:
        return COLUMNS[name]
    if name in EXTRA_COLUMNS:
        return EXTRA_COLUMNS[name]
    valid = ", ".join(list(DEFAULT_COLUMNS) + list(EXTRA_COLUMNS))
    raise ConfigError(f"unknown column {name!r}; valid columns are {valid}")
