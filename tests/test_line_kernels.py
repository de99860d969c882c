"""The compiled line kernels give exactly the numpy paths' lines and Arrow bytes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkbam_py import kernels
from sparkbam_py.text import chunk as text_chunk
from sparkbam_py.text.chunk import LineChunk, line_bounds, packed_lines

pytest.importorskip("numba")

# Text made of short pieces: LF, CR, CRLF, empty lines and runs of letters.
pieces = st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b"a", b"bc", b"x" * 300, b"\n\n"]), max_size=80)


def on_path(monkeypatch, path_name, fn):
    monkeypatch.setenv(kernels.KERNELS_ENV, path_name)
    return fn()


@settings(max_examples=150, deadline=None)
@given(parts=pieces, begin_fraction=st.floats(0, 1), final=st.booleans())
def test_line_bounds_agree(parts, begin_fraction, final):
    data = np.frombuffer(b"".join(parts), dtype=np.uint8)
    begin = int(begin_fraction * len(data))
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = on_path(monkeypatch, "numba", lambda: line_bounds(data, begin, final))
        slow = on_path(monkeypatch, "python", lambda: line_bounds(data, begin, final))
    assert [a.tolist() for a in fast[:2]] + [fast[2]] == [a.tolist() for a in slow[:2]] + [slow[2]]
    with pytest.MonkeyPatch.context() as monkeypatch:
        arrow = [on_path(monkeypatch, kind, lambda: LineChunk(data, *slow[:2], lambda s: s).to_arrow().to_pylist())
                 for kind in ("numba", "python")]
    assert arrow[0] == arrow[1]


def test_many_short_lines_grow_the_bounds_arrays(monkeypatch):
    data = np.frombuffer(b"a\n" * 10_000 + b"\r\n" * 5_000 + b"tail", dtype=np.uint8)
    monkeypatch.setenv(kernels.KERNELS_ENV, "numba")
    starts, ends, after = line_bounds(data, 0, True)
    assert len(starts) == 15_001 and after == len(data)
    assert (ends[10_000:15_000] == starts[10_000:15_000]).all()  # CRLF lines are empty
    assert bytes(data[starts[-1]:ends[-1]]) == b"tail"


def test_packed_lines_skip_terminators_and_left_out_lines(monkeypatch):
    data = np.frombuffer(b"one\r\ntwo\nthree\nfour\n", dtype=np.uint8)
    starts, ends, _ = line_bounds(data, 0, True)
    keep = np.array([True, False, True, True])
    results = []
    for kind in ("numba", "python"):
        monkeypatch.setenv(kernels.KERNELS_ENV, kind)
        offsets, body = packed_lines(data, starts[keep], ends[keep])
        results.append((offsets.tolist(), bytes(body)))
    assert results[0] == results[1] == ([0, 3, 8, 12], b"onethreefour")


def test_the_compiled_module_is_only_imported_on_the_compiled_path(monkeypatch):
    monkeypatch.setenv(kernels.KERNELS_ENV, "python")
    assert text_chunk.compiled_line_kernels() is None
