"""Number-to-text helpers of the decoder, against Python's own formatting."""
from __future__ import annotations

import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sparkbam_py.bam.numtext import format_floats, format_integers, integer_rows
from sparkbam_py.bam.ragged import Ragged, take_byte_ranges


def texts(ragged: Ragged):
    data = ragged.values.tobytes()
    return [data[a:b].decode() for a, b in zip(ragged.offsets[:-1], ragged.offsets[1:])]


EDGES = [0, 1, -1, 9, 10, -9_999, -10_000, 99_999, 100_000, 2**31 - 1, -2**31, 2**32 - 1, 10**18, -(10**18)]


def test_integer_edges():
    assert texts(format_integers(np.array(EDGES))) == [str(v) for v in EDGES]
    assert texts(format_integers(np.array(EDGES), b"i:")) == [f"i:{v}" for v in EDGES]


@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40)))
def test_integers_like_str(values):
    assert texts(format_integers(np.array(values, dtype=np.int64), b",")) == [f",{v}" for v in values]


def test_rows_leave_suffix_columns_for_the_caller():
    rows = integer_rows(np.array([5, 123456, 42]), suffix_columns=1)
    rows.rows[:, -1] = ord("M")
    flat = rows.rows.reshape(-1)
    assert texts(take_byte_ranges(flat, rows.starts, rows.lengths)) == ["5M", "123456M", "42M"]


def test_empty_inputs():
    assert texts(format_integers(np.zeros(0, dtype=np.int64))) == []
    assert texts(format_floats(np.zeros(0, dtype=np.float32))) == []


def c_style_g(value: float) -> str:
    if value != value:
        return "-nan" if np.signbit(value) else "nan"
    return "%g" % value


@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True)))
def test_floats_like_printf_g(values):
    as_float32 = np.array(values, dtype=np.float32)
    expected = [c_style_g(float(v)) for v in as_float32]
    assert texts(format_floats(as_float32, b"f:")) == ["f:" + e for e in expected]


def test_negative_nan_prints_like_glibc():
    negative_nan = np.frombuffer(struct.pack("<I", 0xFFC00000), dtype=np.float32)
    assert texts(format_floats(negative_nan)) == ["-nan"]


@given(st.lists(st.binary(max_size=20), max_size=30), st.randoms())
def test_take_byte_ranges_in_any_order(chunks, rng):
    gaps = [rng.randrange(3) for _ in chunks]
    buffer, starts = b"", []
    for chunk, gap in zip(chunks, gaps):
        buffer += b"\x00" * gap
        starts.append(len(buffer))
        buffer += chunk
    order = list(range(len(chunks))) * 2
    rng.shuffle(order)
    got = take_byte_ranges(np.frombuffer(buffer, dtype=np.uint8), np.array(starts, dtype=np.int64),
                           np.array([len(c) for c in chunks], dtype=np.int64), np.array(order, dtype=np.int64))
    data = got.values.tobytes()
    assert [data[a:b] for a, b in zip(got.offsets[:-1], got.offsets[1:])] == [chunks[i] for i in order]
