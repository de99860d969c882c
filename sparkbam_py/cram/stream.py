"""Hand htslib exactly one task's containers: a CRAM stream made of the file's head, the
task's containers and an end-of-file container, fed through a pipe.

pysam cannot seek in a CRAM (its ``seek`` is BGZF-only), and a task must decode only the
containers it owns.  So htslib reads a stream that holds nothing else: the file definition
and SAM header container (the file's first ``first_container`` bytes), the bytes of the
task's containers, and the end-of-file container of the file's version (CRAMv3 §9).  The
bytes come through the project's channel (local, fsspec URLs, HTTP ranges, page cache), so
htslib never opens the file itself, and a writer thread feeds them while htslib decodes.
"""
from __future__ import annotations

import os
import threading
from typing import Iterator, Optional

from .container import EOF_CONTAINER
from .header import CramHeader

# Bytes read from the channel and written to the pipe at a time.
FEED_CHUNK = 4 << 20


class ContainerStream:
    """A pipe carrying ``[0, first_container) + [start, end) + EOF`` of the file behind ``channel``.

    Use with ``with``: ``reader_file()`` is the read end for pysam; on exit the writer thread
    is stopped (a reader that stops early breaks the pipe, which ends the writer) and any
    error it met (an I/O failure of the channel) is raised by :meth:`check`.
    """

    def __init__(self, channel, header: CramHeader, start: int, end: int):
        self.channel, self.header, self.start, self.end = channel, header, start, end
        read_fd, self._write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb")
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._feed, name="cram-feed", daemon=True)
        self._thread.start()

    def _pieces(self) -> Iterator[bytes]:
        yield self.channel.read_fully(0, self.header.first_container, "CRAM file head")
        for offset in range(self.start, self.end, FEED_CHUNK):
            yield self.channel.read_fully(offset, min(FEED_CHUNK, self.end - offset), "CRAM containers")
        yield EOF_CONTAINER[self.header.definition.major]

    def _feed(self) -> None:
        try:
            with os.fdopen(self._write_fd, "wb") as out:
                for piece in self._pieces():
                    out.write(piece)
        except BrokenPipeError:
            pass  # the reader stopped early: nothing more is wanted
        except BaseException as error:  # surfaced by check(): htslib would only see a short stream
            self.error = error

    def reader_file(self):
        return self._reader

    def check(self) -> None:
        """Stop the writer and raise its error, if it had one.  Call once htslib is done or
        has failed: the read end is closed first, so a writer blocked on a full pipe (htslib
        stopped reading) gets a broken pipe instead of waiting forever."""
        self.close()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if not self._reader.closed:
            self._reader.close()
        self._thread.join()

    def __enter__(self) -> "ContainerStream":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
