"""Vectorised reads of a run of inflated data at many candidate record starts at once.

Every checker asks the same questions of many positions: "what would this field be if a
record started here?" and "how many bad bytes are in this name / bad ops in this CIGAR?".
:class:`RunView` answers them for whole index arrays with numpy, choosing per call between
gathering the bytes of each span (few, short spans: the usual case for the eager checker,
whose candidates are mostly true records) and prefix sums over the whole run (many or long
spans: the full checker asks about every position, with garbage lengths up to 255 bytes of
name and 65,535 CIGAR ops).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from sparkbam_py.bam.layout import CIGAR_CONSUMES_QUERY, CIGAR_OP_MASK, CIGAR_OP_SHIFT, MAX_CIGAR_OP_CODE
from sparkbam_py.bgzf.run import InflatedRun

# SAMv1 §4.2: a CIGAR op is a uint32, code in the low 4 bits, so ops sit 4 bytes apart.
CIGAR_OP_BYTES = 4

# Byte classes a name or an op byte is tested against (256-entry lookup tables).
NUL_BYTE = np.zeros(256, dtype=bool)
NUL_BYTE[0] = True
# A name's bytes fall in exactly one class: QNAME characters (SAMv1 §1.4: [!-?A-~]), the
# two other printable ASCII characters (space and '@'), NUL, or the rest (control
# characters, DEL, bytes >= 0x80). Each non-QNAME class has its own check.
OTHER_PRINTABLE = np.zeros(256, dtype=bool)
OTHER_PRINTABLE[[0x20, 0x40]] = True
NOT_PRINTABLE = np.ones(256, dtype=bool)
NOT_PRINTABLE[0x20:0x7F] = False
NOT_PRINTABLE[0] = False
# An op byte (the op's lowest byte) whose code is not one of MIDNSHP=X.
INVALID_OP_CODE = (np.arange(256) & CIGAR_OP_MASK) > MAX_CIGAR_OP_CODE
_QUERY_CONSUMING_CODE = np.zeros(16, dtype=np.int64)
_QUERY_CONSUMING_CODE[: len(CIGAR_CONSUMES_QUERY)] = CIGAR_CONSUMES_QUERY

# Gather the bytes of each span when they total less than this share of the run;
# beyond it one pass of prefix sums over the run is cheaper.
_GATHER_SHARE = 0.25


class RunView:
    """Read-only numpy views of one :class:`InflatedRun`, with lazily built prefix sums.

    Indices are offsets into ``run.raw``. Callers check availability (``n``) first: a
    gather beyond the data is a bug, not a "no".
    """

    def __init__(self, run: InflatedRun):
        self.run = run
        self.raw = run.raw
        self.data = run.data
        self.n = len(run.raw)
        self.at_end = run.at_end
        # Unaligned little-endian views with a 1-byte stride: the int32 (uint16) that
        # starts at every byte, without copying.
        self._i32 = self._strided("<i4")
        self._u16 = self._strided("<u2")
        self._prefix: Dict[object, np.ndarray] = {}
        self._gathered: Dict[object, int] = {}

    def _strided(self, dtype: str) -> np.ndarray:
        width = np.dtype(dtype).itemsize
        count = max(self.n - width + 1, 0)
        return np.ndarray(shape=(count,), dtype=dtype, buffer=self.raw, offset=0, strides=(1,))

    def int32_at(self, indices: np.ndarray) -> np.ndarray:
        return self._i32[indices]

    def uint16_at(self, indices: np.ndarray) -> np.ndarray:
        return self._u16[indices]

    def uint8_at(self, indices: np.ndarray) -> np.ndarray:
        return self.data[indices]

    def int32_slice(self, start: int, stop: int) -> np.ndarray:
        """The int32 starting at each byte of ``[start, stop)`` (a view, no copy)."""
        return self._i32[start:stop]

    # -- counts over spans ------------------------------------------------------------

    def count_in_spans(self, table: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """For each span ``[start, start + length)``: how many bytes fall in ``table``'s class."""
        lengths = np.maximum(lengths, 0)
        key = id(table)
        if self._gather_pays(key, lengths):
            flat, segments = _ragged_indices(starts, lengths, 1)
            hits = table[self.data[flat]]
            return np.bincount(segments[hits], minlength=len(starts)).astype(np.int64)
        prefix = self._byte_prefix(key, table)
        return prefix[starts + lengths] - prefix[starts]

    def count_invalid_ops(self, starts: np.ndarray, n_ops: np.ndarray) -> np.ndarray:
        """For each CIGAR at ``starts`` with ``n_ops`` ops: how many op codes are above 8."""
        if self._gather_pays("invalid_ops", n_ops):
            flat, segments = _ragged_indices(starts, n_ops, CIGAR_OP_BYTES)
            hits = INVALID_OP_CODE[self.data[flat]]
            return np.bincount(segments[hits], minlength=len(starts)).astype(np.int64)
        return self._strided_span_sums("invalid_ops", starts, n_ops)

    def query_lengths(self, starts: np.ndarray, n_ops: np.ndarray) -> np.ndarray:
        """For each (valid) CIGAR: the summed lengths of its query-consuming ops (M I S = X)."""
        if self._gather_pays("query_lengths", n_ops):
            flat, segments = _ragged_indices(starts, n_ops, CIGAR_OP_BYTES)
            values = self._op_query_lengths(flat)
            return np.bincount(segments, weights=values, minlength=len(starts)).astype(np.int64)
        return self._strided_span_sums("query_lengths", starts, n_ops)

    def _gather_pays(self, key, lengths: np.ndarray) -> bool:
        """Gather the spans' bytes, or (once built, for good) use prefix sums over the run?
        Prefix sums win once the bytes gathered for this kind of count, over all calls on
        this run, pass a share of the run: one pass over it then serves every later call."""
        if key in self._prefix:
            return False
        gathered = self._gathered.get(key, 0) + int(lengths.sum())
        self._gathered[key] = gathered
        return gathered <= _GATHER_SHARE * self.n

    def _op_query_lengths(self, op_indices: np.ndarray) -> np.ndarray:
        ops = self._i32[op_indices].view(np.uint32).astype(np.int64)
        return (ops >> CIGAR_OP_SHIFT) * _QUERY_CONSUMING_CODE[ops & CIGAR_OP_MASK]

    # -- prefix sums --------------------------------------------------------------------

    def _byte_prefix(self, key, table: np.ndarray) -> np.ndarray:
        prefix = self._prefix.get(key)
        if prefix is None:
            prefix = np.zeros(self.n + 1, dtype=np.int32)
            np.cumsum(table[self.data], out=prefix[1:])
            self._prefix[key] = prefix
        return prefix

    def _strided_span_sums(self, kind: str, starts: np.ndarray, n_ops: np.ndarray) -> np.ndarray:
        """Sums over ``starts + 4k`` for ``k < n_ops`` from per-residue prefix sums:
        ``prefix[j + 4]`` holds the sum of the values at ``j, j - 4, j - 8, ...``."""
        prefix = self._prefix.get(kind)
        if prefix is None:
            prefix = self._build_strided_prefix(kind)
            self._prefix[kind] = prefix
        last = starts + CIGAR_OP_BYTES * (n_ops - 1)
        return np.where(n_ops > 0, prefix[np.maximum(last, 0) + CIGAR_OP_BYTES] - prefix[starts], 0)

    def _build_strided_prefix(self, kind: str) -> np.ndarray:
        padded = -(-self.n // CIGAR_OP_BYTES) * CIGAR_OP_BYTES
        values = np.zeros(padded + CIGAR_OP_BYTES, dtype=np.int64)
        if kind == "invalid_ops":
            values[CIGAR_OP_BYTES : CIGAR_OP_BYTES + self.n] = INVALID_OP_CODE[self.data]
        else:
            whole = len(self._i32)
            values[CIGAR_OP_BYTES : CIGAR_OP_BYTES + whole] = self._op_query_lengths(np.arange(whole))
        return values.reshape(-1, CIGAR_OP_BYTES).cumsum(axis=0).reshape(-1)


def _ragged_indices(starts: np.ndarray, lengths: np.ndarray, stride: int):
    """The byte indices ``start + stride*k`` (``k < length``) of every span, flattened, and
    the span number of each."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    segments = np.repeat(np.arange(len(starts)), lengths)
    if total == 0:
        return np.zeros(0, dtype=np.int64), segments
    firsts = np.cumsum(lengths) - lengths
    within = np.arange(total, dtype=np.int64) - np.repeat(firsts, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + stride * within, segments
