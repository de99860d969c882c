"""A batch of lines: the bytes they sit in, where each starts and ends, and their positions.

Lines are cut at LF; a CR right before the LF belongs to the terminator (as htslib's
``bgzf_getline`` and Hadoop's LineReader read CRLF).  Converting a chunk to Arrow drops the
terminators with one vectorised copy; no Python loop per line.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import numpy as np
import pyarrow as pa

from ..errors import CorruptDataError
from ..pos import Pos

LF = 0x0A
CR = 0x0D


class LineChunk(NamedTuple):
    """Complete lines in ``data`` (a uint8 array): line k is ``data[starts[k]:ends[k]]``,
    terminator excluded.  ``positions()`` gives each line's ``file_position``: its BGZF
    virtual offset, or its byte offset in a file without BGZF blocks."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    position_of: Callable[[np.ndarray], np.ndarray]
    path: Optional[str] = None
    bgzf: bool = True

    def __len__(self) -> int:
        return len(self.starts)

    def positions(self) -> np.ndarray:
        return np.asarray(self.position_of(self.starts), dtype=np.int64)

    def select(self, keep: np.ndarray) -> "LineChunk":
        """The chunk with only the lines where ``keep`` is true."""
        # Not _replace: __len__ counts lines here, which NamedTuple._make would trip on.
        return LineChunk(self.data, self.starts[keep], self.ends[keep], self.position_of, self.path, self.bgzf)

    def first_bytes(self) -> np.ndarray:
        """Each line's first byte (0 for an empty line)."""
        nonempty = self.ends > self.starts
        first = np.zeros(len(self.starts), dtype=np.uint8)
        first[nonempty] = self.data[self.starts[nonempty]]
        return first

    def to_arrow(self) -> pa.StringArray:
        """The lines as an Arrow string array (terminators dropped), UTF-8 checked."""
        lengths = self.ends - self.starts
        offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        body = content_bytes(self.data, self.starts, self.ends)
        array = pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(body))
        try:
            array.validate(full=True)
        except pa.ArrowInvalid:
            raise self._utf8_error(array) from None
        return array

    def _utf8_error(self, array: pa.StringArray) -> CorruptDataError:
        binary = array.view(pa.binary())
        for k in range(len(binary)):  # error path only: find the offending line
            try:
                binary[k].as_py().decode("utf-8")
            except UnicodeDecodeError as error:
                where = int(self.positions()[k])
                place = Pos.from_virtual(where) if self.bgzf else where
                return CorruptDataError(f"the line at {place} is not UTF-8 text ({error.reason} "
                                        f"at byte {error.start} of the line)", self.path, place)
        return CorruptDataError("lines are not valid UTF-8 text", self.path)


def content_bytes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The bytes of every line, concatenated: the span from the first start to the last end
    without the gaps between lines (terminators, or lines left out), vectorised."""
    if not len(starts):
        return data[:0]
    first = int(starts[0])
    span = data[first:int(ends[-1])]
    gaps = starts[1:] - ends[:-1]
    if not gaps.any():
        return span
    keep = np.ones(len(span), dtype=bool)
    # Each gap's bytes: its first index repeated per byte, plus 0, 1, ... within the gap.
    gap_first = np.repeat(ends[:-1] - first, gaps)
    within = np.arange(len(gap_first)) - np.repeat(np.cumsum(gaps) - gaps, gaps)
    keep[gap_first + within] = False
    return span[keep]


def line_bounds(data: np.ndarray, begin: int, final: bool):
    """Lines in ``data[begin:]``: ``(starts, ends, after)``, where ``after`` is the index
    after the last complete line.  With ``final`` (the data ends here) a last line without
    a terminator counts too."""
    newlines = np.flatnonzero(data[begin:] == LF) + begin
    starts = np.empty(len(newlines), dtype=np.int64)
    starts[:1] = begin
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    after = int(newlines[-1]) + 1 if len(newlines) else begin
    if final and after < len(data):
        starts = np.append(starts, after)
        ends = np.append(ends, len(data))
        after = len(data)
    # htslib's bgzf_getline drops one CR at the end of any line (CRLF files).
    ends = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == CR))
    return starts, ends, after
