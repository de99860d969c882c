"""The narrowest numpy dtypes that hold a track's values and their cumulative sums."""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError

UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)
SIGNED = (np.int8, np.int16, np.int32, np.int64)


def narrowest_value_dtype(minimum, maximum, integral: bool) -> np.dtype:
    """The smallest dtype holding every value in ``[minimum, maximum]`` exactly.

    Integral values take the smallest (unsigned when ``minimum >= 0``) integer type; others
    float32 when the caller found every value exact in float32 (``integral`` False means
    the values are floats: pass ``minimum``/``maximum`` of a float32 round-trip check).
    """
    if not integral:
        return np.dtype(np.float64)
    for candidate in (UNSIGNED if minimum >= 0 else SIGNED):
        info = np.iinfo(candidate)
        if info.min <= minimum and maximum <= info.max:
            return np.dtype(candidate)
    raise ConfigError(f"values in [{minimum}, {maximum}] fit no 64-bit integer type")


def cumsum_dtype(value_dtype: np.dtype, total_abs_sum) -> np.dtype:
    """Cumulative sums' dtype: float64 for floats, else uint32/uint64/int64 by magnitude."""
    if value_dtype.kind == "f":
        return np.dtype(np.float64)
    if value_dtype.kind == "u":
        return np.dtype(np.uint32 if total_abs_sum <= np.iinfo(np.uint32).max else np.uint64)
    if total_abs_sum > np.iinfo(np.int64).max:
        raise ConfigError(f"cumulative sums up to {total_abs_sum} overflow int64")
    return np.dtype(np.int64)


def float_values_dtype(values: np.ndarray) -> np.dtype:
    """float32 when every value survives a float32 round trip, else float64."""
    values = np.asarray(values, dtype=np.float64)
    return np.dtype(np.float32) if np.array_equal(values.astype(np.float32), values, equal_nan=True) else np.dtype(np.float64)
