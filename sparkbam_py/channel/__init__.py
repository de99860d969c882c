"""L1, bytes: byte sources over local files, fsspec URLs and HTTP, and the caching channel.

Knows nothing of BGZF or BAM.  :mod:`.retry` bounds the retries of remote reads and
:mod:`.storage` carries credentials and endpoints of fsspec stores.  Everything here is read
by executors; the loopback servers that tests and benchmarks read through live in
:mod:`sparkbam_py.testing`.
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
