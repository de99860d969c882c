"""The one list of formats, and the one place that decides which format a file is.

Entry points never look at a path's suffix: they ask :func:`format_for` with the formats
they take, in order of preference, and get the format object back (or a typed refusal).
The decision is made once per call, from the first file's bytes (htsjdk's
``SamReaderFactory`` and noodles' ``alignment::io::reader::Builder`` decide the same way):

* a file is sniffed (:mod:`.sniff`): magic bytes first, the name only as a hint;
* a directory or glob is listed for the first taken format it holds any files of, and its
  first file is sniffed;
* a recognised format the entry point does not take is refused with
  :class:`~sparkbam_py.errors.UnsupportedFormatError`, naming the path, what was sniffed and
  what the entry point takes;
* bytes nothing recognises (empty, corrupt, another compression) go to the entry point's
  first format, whose own reader names exactly what is wrong with them.

Adding a format: a package with its reader, a format object (:class:`.protocol.Format`) and
one line in :data:`FORMATS`, whose order is the order formats are sniffed in.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ..errors import ConfigError, MissingInputError, SparkBamError, UnsupportedFormatError
from .bam import BAM
from .cram import CRAM
from .paths import PathsArgument, expand_paths, is_listing, path_items
from .options import keyword_name, options_of
from .protocol import Columns, Format, FormatRead
from .sniff import read_head
from .text import TEXT_FORMATS

# Every format, in sniffing order: the specific text formats before plain lines.
FORMATS: Tuple[Format, ...] = (BAM, CRAM) + TEXT_FORMATS
# Formats whose records are aligned reads (the same columns): what the read loaders take.
READ_FORMATS = ("bam", "cram")
FORMAT_NAMES = tuple(known.name for known in FORMATS)
# Formats of lines (a VCF's records are lines too): what line tools (map_regions, count-lines) take.
LINE_FORMATS = tuple(known.name for known in FORMATS if known.unit == "line")


def format_named(name: str) -> Format:
    """The format registered as ``name`` (``"bam"``, ``"vcf"``...)."""
    for known in FORMATS:
        if known.name == name:
            return known
    raise ConfigError(f"no format named {name!r}; known: {', '.join(FORMAT_NAMES)}")


def sniff_format(path: str) -> Optional[Format]:
    """The format ``path`` is recognised as, or None; typed errors when it cannot be read."""
    head = read_head(path)
    return next((known for known in FORMATS if known.sniff(head)), None)


def format_for(paths: PathsArgument, accepted: Sequence[str], entry: str) -> Format:
    """The format of the files ``paths`` names, among ``accepted`` (names, preferred first),
    for the entry point called ``entry``.  See the module docstring for the rules."""
    taken = [format_named(name) for name in accepted]
    items = path_items(paths)
    if not items:
        raise ConfigError("no input path given")
    sample = _sample_file(items[0], taken)
    if sample is None:
        return taken[0]
    try:
        found = sniff_format(sample)
    except SparkBamError:
        return taken[0]  # missing or unreadable: its reader says so, as it would without us
    if found is None or found in taken:
        return found or taken[0]
    raise UnsupportedFormatError(
        f"{entry} takes {_names(taken)}; this file is {found.title} ({found.records}): "
        f"read it with spark.read.format({found.name!r})", sample, sniffed=found.name)


def open_read(paths: PathsArgument, accepted: Sequence[str], entry: str, columns: Columns = None,
              **keywords) -> Tuple[Format, FormatRead]:
    """The format of ``paths`` among ``accepted``, and its read of them from loader keywords
    (see :func:`~.options.options_of`): options and columns are checked here."""
    source_format = format_for(paths, accepted, entry)
    return source_format, read_of(source_format, paths, entry, columns, **keywords)


def read_of(source_format: Format, paths: PathsArgument, entry: str, columns: Columns = None,
            **keywords) -> FormatRead:
    """``source_format``'s read of ``paths`` from loader keywords; TypeError, as Python raises
    for any unexpected keyword, for one the format does not take."""
    options = options_of(**keywords)
    known = {option.lower(): keyword_name(option) for option in source_format.options}
    unknown = sorted(keyword_name(name) for name in options if name.lower() not in known)
    if unknown:
        raise TypeError(f"{entry}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))} for "
                        f"{source_format.title}; it takes {', '.join(sorted(known.values()))}")
    return source_format.open_read({**options, **options_of(paths)}, columns)


def _sample_file(item: str, taken: Sequence[Format]) -> Optional[str]:
    """The file to sniff for ``item``: itself, or the first file its listing holds of the
    first taken format it holds any of; None when there is none (the reader will say so)."""
    if not is_listing(item):
        return item
    for known in taken:
        try:
            return expand_paths([item], known.suffixes, known.title)[0]
        except MissingInputError:
            continue
    return None


def _names(formats: Sequence[Format]) -> str:
    titles = [known.title for known in formats]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]
