"""L1, bytes: byte sources over local files, fsspec URLs and HTTP, and the caching channel.

Knows nothing of BGZF or BAM.  :mod:`.http_server` (a loopback Range server for tests and
benchmarks) is not imported here: the library itself never serves.
"""
from __future__ import annotations

from .caching import CachingChannel, ChannelStats, open_channel
from .sources import ByteSource, FsspecSource, HttpSource, LocalFileSource, open_source

__all__ = [
    "ByteSource",
    "CachingChannel",
    "ChannelStats",
    "FsspecSource",
    "HttpSource",
    "LocalFileSource",
    "open_channel",
    "open_source",
]
