"""Arrow arrays wrapped over numpy buffers: exactly what ``pa.array`` makes, buffers included."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparkbam_py.bam.arrow_build import primitive_array
from sparkbam_py.bam.ragged import strings_array


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
@pytest.mark.parametrize("with_mask", [False, True])
def test_primitive_arrays_equal_pa_array_buffer_for_buffer(dtype, with_mask):
    rng = np.random.default_rng(7)
    values = rng.integers(-(2**31), 2**31, size=1000)  # int64: narrowed as astype narrows
    strided = np.stack([values, values])[:, ::3][0]
    valid = rng.random(len(strided)) < 0.8 if with_mask else None
    made = primitive_array(strided, dtype, valid=valid)
    expected = pa.array(strided.astype(dtype), mask=None if valid is None else ~valid)
    assert made.type == expected.type and made.null_count == expected.null_count
    assert made.equals(expected)
    assert made.buffers()[1].to_pybytes() == expected.buffers()[1].to_pybytes()  # masked slots keep values
    assert len(primitive_array(np.zeros(0, np.int64), dtype)) == 0


@pytest.mark.parametrize("strings", [[], [""], ["chr1", "chrUn_KI270302v1", "HLA-A*01:01:01:01", "é"]])
def test_strings_array_equals_pa_array(strings):
    assert strings_array(strings).equals(pa.array(strings, type=pa.string()))
