"""Output buffers pre-faulted in bulk: same arrays as np.empty, and a silent fallback."""
from __future__ import annotations

import numpy as np
import pytest

from sparkbam_py.bam import prefault


@pytest.mark.parametrize("size", [0, 10, prefault.MIN_POPULATE_BYTES - 1, prefault.MIN_POPULATE_BYTES + 12_345])
def test_populated_arrays_are_plain_writable_arrays(size):
    array = prefault.populated_empty(size)
    assert array.shape == (size,) and array.dtype == np.uint8 and array.flags.writeable
    array[:] = 7
    assert int(array.sum()) == 7 * size
    wide = prefault.populated_empty(size, np.int64)
    assert wide.shape == (size,) and wide.dtype == np.int64


def test_a_kernel_refusing_the_advice_turns_it_off(monkeypatch):
    calls = []

    def refusing(address, length, advice):
        calls.append((address % prefault._PAGE, length % prefault._PAGE, advice))
        return -1  # as Linux before 5.14 answers MADV_POPULATE_WRITE (EINVAL)

    monkeypatch.setitem(prefault._state, "madvise", refusing)
    for _ in range(3):
        assert len(prefault.populated_empty(4 * prefault.MIN_POPULATE_BYTES)) == 4 * prefault.MIN_POPULATE_BYTES
    assert calls == [(0, 0, prefault.MADV_POPULATE_WRITE)]  # page-aligned, asked once only
    assert prefault._state["madvise"] is None
