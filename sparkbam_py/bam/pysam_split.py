"""pysam's records over one BAM split task: ``map_partitions``/``map_splits`` with ``records="pysam"``.

pysam opens the file inside the task (its handles neither pickle nor survive a fork), and
the split's own reader finds the start and checks the boundary, so a function sees exactly
the records the split owns.
"""
from __future__ import annotations

from typing import Callable, Optional
from urllib.parse import urlsplit

from ..bgzf.blocks import read_block_header
from ..errors import ConfigError
from ..pos import Pos
from .splits import SplitReader, SplitTask

# URL schemes htslib (inside pysam) opens itself; local paths and file:// are handled here.
PYSAM_SCHEMES = ("http", "https", "ftp", "s3", "gs", "gcs")
# RFC 1952: a gzip member ends with ISIZE, the inflated length, as a 32-bit little-endian int.
ISIZE_BYTES = 4


def pysam_path(path: str) -> str:
    """What to hand pysam for ``path``; ConfigError for stores htslib cannot open."""
    scheme = urlsplit(path).scheme
    if scheme == "" or len(scheme) == 1:
        return path
    if scheme == "file":
        return urlsplit(path).path
    if scheme in PYSAM_SCHEMES:
        return path
    raise ConfigError(
        f"map_partitions reads with pysam (htslib), which cannot open {scheme}:// URLs; "
        "use load_reads for this store", path)


def apply_to_split(task: SplitTask, fn: Callable) -> object:
    """``fn(iterator of pysam.AlignedSegment)`` over the task's records, then the boundary check.

    If ``fn`` stops early, the rest of the split is still read (not handed to ``fn``) so the
    boundary can be checked: a result computed from a wrong start must not come back.
    """
    with SplitReader(task) as split:
        segments = _PysamSegments(split)
        try:
            result = fn(iter(segments))
            segments.finish()
        finally:
            segments.close()
    return result


class _PysamSegments:
    """pysam's records from the split's start while the split owns them."""

    def __init__(self, split: SplitReader):
        self.split = split
        self.file = None
        self.landing: Optional[Pos] = None
        start = split.start
        if start is not None:
            import pysam

            self.file = pysam.AlignmentFile(pysam_path(split.task.path), "rb", check_sq=False)
            self.file.seek(start.virtual)
        else:
            self.landing = start

    def __iter__(self):
        if self.file is None:
            return
        end = self.split.task.range.end
        while True:
            here = Pos.from_virtual(self.file.tell())
            if here.block_pos >= end or self._first_byte_block(here) >= end:
                self.landing = here
                return
            try:
                segment = next(self.file)
            except StopIteration:
                self.landing = Pos.from_virtual(self.file.tell())
                return
            yield segment

    def _first_byte_block(self, pos: Pos) -> int:
        """The block holding the byte at ``pos``: past any empty blocks htslib names it by."""
        if pos.offset:
            return pos.block_pos
        channel, block = self.split.channel, pos.block_pos
        while block < channel.size:
            header = read_block_header(channel, block)
            isize = channel.read_at(header.end - ISIZE_BYTES, ISIZE_BYTES)
            if int.from_bytes(isize, "little"):
                return block
            block = header.end
        return block

    def finish(self) -> None:
        """Read to the split's end if ``fn`` did not, then check the boundary."""
        if self.file is not None and self.landing is None:
            for _ in self:
                pass
        if self.split.task.verify and self.file is not None:
            self.split.verify_boundary(self.landing)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
