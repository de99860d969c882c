"""The format registry: the one seam between the entry points and the formats.

Every entry point (Spark's data sources and loaders, ``read_table``/``iter_batches``,
``convert``, ``compute_coverage``, the CLI, the service) asks :func:`format_for` which
format its input is, then calls that format's object: ``open_read(options, columns)`` gives
a :class:`FormatRead` whose ``tasks()`` are planned on the driver and whose
``read(task)`` runs wherever the task runs.  :data:`FORMATS` is the list; the protocol is in
:mod:`.protocol`.  Nothing here imports pyspark.
"""
from __future__ import annotations

from .options import options_of
from .protocol import FilterPushdown, Format, FormatRead, FormatWrite, SplitRow, SplitRows
from .registry import (FORMAT_NAMES, FORMATS, LINE_FORMATS, READ_FORMATS, format_for, format_named, open_read,
                       read_of, sniff_format)

__all__ = [
    "FORMATS", "FORMAT_NAMES", "LINE_FORMATS", "READ_FORMATS", "FilterPushdown", "Format", "FormatRead", "FormatWrite",
    "SplitRow", "SplitRows", "format_for", "format_named", "open_read", "options_of", "read_of", "sniff_format",
]
