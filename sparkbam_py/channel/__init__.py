"""L1, bytes: byte sources over local files, fsspec URLs and HTTP, and the caching channel.

Knows nothing of BGZF or BAM.  :mod:`.retry` bounds the retries of remote reads and
:mod:`.storage` carries credentials and endpoints of fsspec stores.  :mod:`.http_server` (a
loopback Range server), :mod:`.fault_proxy` (a loopback proxy injecting faults) and
:mod:`.moto_s3` (a loopback S3 server) are for tests and benchmarks and not imported here:
the library itself never serves.
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
