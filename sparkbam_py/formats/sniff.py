"""The first bytes of a file, read once, for every format to look at (:class:`Head`).

One ranged read of the file's start (a single request on a remote store); for BGZF and
gzip, the first member is inflated too, so text formats see their first lines and BAM its
``BAM\\1`` magic (SAMv1 §4.2).  A first block that does not inflate leaves ``data`` empty:
no format claims the file then, and the entry point's own reader names what is wrong.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

from ..bgzf.constants import GZIP_MAGIC
from ..bgzf.header import block_size_at, header_prefix_size
from ..channel import open_channel

# A BGZF block is at most 64 KiB (SAMv1 §4.1: BSIZE is 16 bits), so this holds the first one.
HEAD_BYTES = 64 * 1024
# RFC 1952: wbits for zlib to read a gzip member with its header and trailer.
GZIP_WBITS = 16 + zlib.MAX_WBITS
BGZF, GZIP, PLAIN = "bgzf", "gzip", "plain"
COMPRESSION_SUFFIXES = (".gz", ".bgz", ".bgzf")
# Share of printable bytes above which a file's start is taken for text.
TEXT_SHARE = 0.95


@dataclass(frozen=True)
class Head:
    """A file's start: ``raw`` as stored, ``compression`` (``bgzf``, ``gzip`` or ``plain``) and
    ``data``, the first bytes of the content (inflated where compressed)."""

    path: str
    raw: bytes
    compression: str
    data: bytes

    @property
    def name(self) -> str:
        """The file's base name, lower case, without a compression suffix (a hint only)."""
        base = self.path.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0].lower()
        for suffix in COMPRESSION_SUFFIXES:
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    def first_line(self) -> str:
        return self.data.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")

    def looks_like_text(self) -> bool:
        """Mostly printable bytes (tabs and newlines count): lines a text format can read."""
        sample = self.data[:4096]
        if not sample:
            return False
        printable = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in sample)
        return printable >= TEXT_SHARE * len(sample)


def read_head(path: str) -> Head:
    """The :class:`Head` of ``path`` (typed errors for a missing or unreadable file)."""
    with open_channel(path) as channel:
        raw = channel.read_at(0, min(channel.size, HEAD_BYTES))
    compression = _compression(raw)
    return Head(path, raw, compression, _content(raw, compression))


def _compression(raw: bytes) -> str:
    if not raw.startswith(GZIP_MAGIC):
        return PLAIN
    if len(raw) >= header_prefix_size(raw) and block_size_at(raw) is not None:
        return BGZF
    return GZIP


def _content(raw: bytes, compression: str) -> bytes:
    """The first bytes of the content: the first member inflated, or ``raw`` itself."""
    if compression == PLAIN:
        return raw
    try:
        return zlib.decompressobj(GZIP_WBITS).decompress(raw, HEAD_BYTES)
    except zlib.error:
        return b""
