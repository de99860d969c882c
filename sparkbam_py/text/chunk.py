"""A batch of lines: the bytes they sit in, where each starts and ends, and their positions.

Lines are cut at LF; a CR right before the LF belongs to the terminator (as htslib's
``bgzf_getline`` and Hadoop's LineReader read CRLF).  Converting a chunk to Arrow drops the
terminators with one vectorised copy; no Python loop per line.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np
import pyarrow as pa

from ..bgzf.pool import arrow_buffer, pool_array
from ..errors import CorruptDataError
from ..kernels import use_compiled
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
        offsets, body = packed_lines(self.data, self.starts, self.ends)
        array = pa.StringArray.from_buffers(len(self.starts), arrow_buffer(offsets), arrow_buffer(body))
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


def packed_lines(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Arrow's string layout of the lines: int32 offsets and their bytes back to back."""
    lengths = ends - starts
    kernels = compiled_line_kernels()
    if kernels is not None and len(starts):
        offsets = pool_array(len(starts) + 1, np.int32)
        body = pool_array(int(lengths.sum()), np.uint8)
        kernels.pack_lines_kernel(data, starts, ends, body, offsets)
        return offsets, body
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, content_bytes(data, starts, ends)


def compiled_line_kernels():
    """:mod:`.line_kernels`, or None where the numpy paths are selected (:mod:`..kernels`)."""
    if not use_compiled():
        return None
    from . import line_kernels  # noqa: PLC0415 (imports numba: only on the compiled path)

    return line_kernels


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
    a terminator counts too.  htslib's ``bgzf_getline`` drops one CR at the end of any line
    (CRLF files), so ``ends`` exclude it."""
    kernels = compiled_line_kernels()
    if kernels is not None:
        starts, ends, after = _compiled_bounds(kernels.line_bounds_kernel, data, begin)
    else:
        starts, ends, after = _numpy_bounds(data, begin)
    if final and after < len(data):
        last_end = len(data) - (1 if data[len(data) - 1] == CR else 0)
        starts = np.append(starts, after)
        ends = np.append(ends, last_end)
        after = len(data)
    return starts, ends, after


def _compiled_bounds(kernel, data: np.ndarray, begin: int):
    # Room for lines of ~128 bytes on average; a run of shorter lines grows the arrays.
    capacity = max(64, (len(data) - begin) // 128)
    starts_parts, ends_parts, after = [], [], begin
    while True:
        starts, ends = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
        count, after = kernel(data, after, starts, ends)
        starts_parts.append(starts[:count])
        ends_parts.append(ends[:count])
        if count < capacity:
            break
        capacity *= 2
    if len(starts_parts) == 1:
        return starts_parts[0], ends_parts[0], after
    return np.concatenate(starts_parts), np.concatenate(ends_parts), after


def _numpy_bounds(data: np.ndarray, begin: int):
    newlines = np.flatnonzero(data[begin:] == LF) + begin
    starts = np.empty(len(newlines), dtype=np.int64)
    starts[:1] = begin
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    after = int(newlines[-1]) + 1 if len(newlines) else begin
    ends = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == CR))
    return starts, ends, after
