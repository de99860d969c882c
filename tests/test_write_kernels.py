"""The compiled writer kernels give the Arrow path's text exactly (integers and integer lists)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparkbam_py.kernels import KERNELS_ENV
from sparkbam_py.text.write_fields import joined_list, plain_text

EXTREMES = [0, 9, 10, 99, 100, -1, -9, -10, -100, 10**18 - 1, 10**18, 2**63 - 1, -(2**63 - 1), -(2**63)]


def both_paths(monkeypatch, function, *arguments):
    monkeypatch.setenv(KERNELS_ENV, "numba")
    compiled = function(*arguments)
    monkeypatch.setenv(KERNELS_ENV, "python")
    return compiled, function(*arguments)


@pytest.mark.parametrize("type_", [pa.int8(), pa.int16(), pa.int32(), pa.uint32(), pa.int64(), pa.uint64()])
def test_integers_as_text_equal_the_arrow_cast(monkeypatch, type_):
    info = np.iinfo(type_.to_pandas_dtype())
    rng = np.random.default_rng(3)
    values = [v for v in EXTREMES if info.min <= v <= info.max] + [None, int(info.max), int(info.min)]
    values += [int(v) for v in rng.integers(info.min, info.max, 500, endpoint=True, dtype=np.int64 if info.min < 0 else np.uint64)]
    column = pa.array(values, type_)
    compiled, arrow = both_paths(monkeypatch, plain_text, column.slice(2))
    assert compiled.equals(arrow)


def test_integer_lists_joined_equal_the_arrow_join(monkeypatch):
    rng = np.random.default_rng(5)
    values = pa.array([None if rng.random() < 0.05 else int(v) for v in rng.integers(-10**6, 10**9, 3000)]
                      + EXTREMES[:-1], pa.int64())
    offsets = np.sort(rng.integers(0, len(values), 700)).astype(np.int32)
    offsets[0], offsets[-1] = 0, len(values)
    lists = pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(rng.random(len(offsets) - 1) < 0.1))
    for column in (lists, lists.slice(17, 300), pa.chunked_array([lists.slice(0, 5), lists.slice(5)])):
        for separator, missing in ((",", "."), (";", "NA")):
            compiled, arrow = both_paths(monkeypatch, joined_list, column, separator, missing)
            assert compiled.equals(arrow)
