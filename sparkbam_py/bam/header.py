"""The BAM header (SAMv1 §4.2): magic, SAM text, and the reference dictionary.

Headers can span many BGZF blocks (1.7 MB of text, 28,000 references are real cases), so
parsing reads from a growing run of blocks, not from the first block.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

from ..bgzf.reader import BgzfReader
from ..bgzf.sniff import check_bgzf
from ..errors import CorruptDataError, TruncatedError, WrongFormatError
from ..pos import Pos
from .layout import BAM_MAGIC

_INT32 = struct.Struct("<i")
_INITIAL_READ = 1 << 16


@dataclass(frozen=True)
class BamHeader:
    """What the header says, and where the first record starts (``end``)."""

    text: str
    reference_names: Tuple[str, ...]
    reference_lengths: Tuple[int, ...]
    end: Pos
    path: str = field(default="", compare=False)

    @property
    def n_ref(self) -> int:
        return len(self.reference_names)

    def reference_lengths_array(self) -> np.ndarray:
        return np.asarray(self.reference_lengths, dtype=np.int64)


def read_header(reader: BgzfReader) -> BamHeader:
    """Parse the header at the start of the file, or raise a typed error saying why not."""
    check_bgzf(reader.channel)
    cursor = _Cursor(reader)
    magic = cursor.take(len(BAM_MAGIC), "BAM magic")
    if magic != BAM_MAGIC:
        raise WrongFormatError(_describe_payload(magic + cursor.peek(60)), reader.path, Pos(0, 0))
    l_text = cursor.int32("l_text")
    text = cursor.take(l_text, "header text").split(b"\0", 1)[0]  # NUL padding allowed
    n_ref = cursor.int32("n_ref")
    names, lengths = [], []
    for _ in range(n_ref):
        l_name = cursor.int32("l_name")
        names.append(cursor.take(l_name, "reference name").rstrip(b"\0").decode("ascii", "replace"))
        lengths.append(cursor.int32("l_ref"))
    return BamHeader(text.decode("utf-8", "replace"), tuple(names), tuple(lengths), cursor.pos(), reader.path)


def _describe_payload(head: bytes) -> str:
    if head.startswith(b"##fileformat=VCF"):
        return "BGZF-compressed VCF, not BAM"
    if head.startswith(b"@") or head[:1].isalpha():
        return "BGZF-compressed text (SAM?), not BAM: no BAM\\1 magic"
    return f"no BAM magic (starts with {head[:4]!r})"


class _Cursor:
    """Sequential reads over a run of blocks that grows on demand."""

    def __init__(self, reader: BgzfReader):
        self.reader = reader
        self.run = reader.read_run(0, _INITIAL_READ)
        self.index = 0

    def _ensure(self, n: int) -> bool:
        while self.index + n > len(self.run) and not self.run.at_end:
            more = max(n, _INITIAL_READ)
            tail = self.run.tail(self.index)
            self.run = self.reader.read_run(int(self.run.block_starts[-1]), len(tail) + more, carry=tail)
            self.index = 0
        return self.index + n <= len(self.run)

    def peek(self, n: int) -> bytes:
        self._ensure(n)
        return self.run.raw[self.index : self.index + n]

    def take(self, n: int, what: str) -> bytes:
        if n < 0:
            raise CorruptDataError(f"negative length {n} for the {what}", self.reader.path, self.pos())
        if not self._ensure(n):
            raise TruncatedError(f"the header ends inside the {what}", self.reader.path, self.pos())
        data = self.run.raw[self.index : self.index + n]
        self.index += n
        return data

    def int32(self, what: str) -> int:
        return _INT32.unpack(self.take(4, what))[0]

    def pos(self) -> Pos:
        return self.run.pos_at(self.index)
