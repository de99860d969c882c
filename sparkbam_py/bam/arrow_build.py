"""Arrow arrays over numpy buffers, built without ``pa.array``.

``pa.array`` on a numpy array (or a list) first asks whether the object is a pandas one, and
that question imports pandas: ~0.15 CPU s, paid by every process that decodes a batch,
though nothing here uses pandas.  Wrapping the buffer directly gives the same array (same
values, same validity bitmap; masked slots keep their values, as ``pa.array(mask=...)``
keeps them) without the import, and without a copy.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa


def primitive_array(values: np.ndarray, dtype, valid: Optional[np.ndarray] = None) -> pa.Array:
    """``values`` as an Arrow array of numpy ``dtype``'s type (int32, int64, float32...),
    null where ``valid`` is False."""
    data = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), len(data),
                                 [validity_bitmap(valid), pa.py_buffer(data)])


def validity_bitmap(valid: Optional[np.ndarray]) -> Optional[pa.Buffer]:
    """Arrow's validity bitmap for a boolean mask (None when every item is valid)."""
    if valid is None or bool(np.all(valid)):
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))
