"""Open a BAM from a path or URL: the channel, the BGZF reader and the parsed header."""
from __future__ import annotations

from typing import Iterator, Optional

from ..bgzf.reader import BgzfReader
from ..channel import open_channel
from ..pos import Pos
from .header import BamHeader, read_header
from .walk import RecordChunk, count_records, iter_record_chunks


class BamFile:
    """A BAM opened for reading: ``channel`` -> ``reader`` -> ``header``.

    Use it as a context manager; each Spark task opens its own (channels hold handles).
    """

    def __init__(self, path, verify_checksums: bool = True, **channel_options):
        self.channel = open_channel(path, **channel_options)
        try:
            self.reader = BgzfReader(self.channel, verify_checksums=verify_checksums)
            self.header: BamHeader = read_header(self.reader)
        except BaseException:
            self.channel.close()
            raise

    @property
    def path(self) -> str:
        return self.channel.path

    @property
    def size(self) -> int:
        return self.channel.size

    def iter_record_chunks(self, start: Optional[Pos] = None, stop: Optional[Pos] = None) -> Iterator[RecordChunk]:
        return iter_record_chunks(self.reader, self.header.end if start is None else start, stop)

    def count_records(self, start: Optional[Pos] = None, stop: Optional[Pos] = None) -> int:
        return count_records(self.reader, self.header.end if start is None else start, stop)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "BamFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_bam(path, verify_checksums: bool = True, **channel_options) -> BamFile:
    """Open ``path``; every BGZF block's CRC32 is checked unless ``verify_checksums`` is False."""
    return BamFile(path, verify_checksums, **channel_options)
