"""Typed defaults, in one place, with where each number comes from."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# CachingChannel: spark-bam's io-utils defaults (64 KiB pages, 64 MiB of them).
DEFAULT_PAGE_SIZE = 64 * KiB
DEFAULT_CACHE_BYTES = 64 * MiB
DEFAULT_READ_ATTEMPTS = 3

# BGZF block search: a candidate header counts only when this many consecutive headers chain.
DEFAULT_BGZF_BLOCKS_TO_CHECK = 5
# Inflated blocks kept per reader (a split's search revisits the same few blocks).
DEFAULT_INFLATED_BLOCK_CACHE = 64

# Record-boundary search: records that must chain after a candidate, and the search bound.
DEFAULT_READS_TO_CHECK = 10
DEFAULT_MAX_READ_SIZE = 100_000_000  # spark-bam 1.2 raised it to 1e8 for long reads

# Splits: one Spark partition per byte range of this size (spark-bam / Hadoop local default).
DEFAULT_SPLIT_SIZE = 32 * MiB

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1024 * GiB}


def parse_size(value) -> int:
    """Bytes from ``123``, ``"64m"``, ``"128MB"``, ``"1.5g"``, ``"32MiB"`` (binary units).

    spark-bam and Hadoop read ``m`` as MiB; so do we, with or without a ``B``.
    """
    if isinstance(value, bool):
        raise ConfigError(f"size must be bytes or a string like '64m', got {value!r}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ConfigError(f"cannot read {value!r} as a size (try 33554432, '32m' or '32MB')")
        number, unit, _ = match.groups()
        size = int(float(number) * _UNITS[unit.lower()])
    if size <= 0:
        raise ConfigError(f"size must be positive, got {value!r}")
    return size


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def parse_bool(name: str, value) -> bool:
    """A boolean option given as text (``"true"``/``"false"``, ``1``/``0``, ``yes``/``no``) or as a bool."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"option {name} must be true or false, got {value!r}")


@dataclass(frozen=True)
class CheckerConfig:
    """How hard the record-boundary search looks: travels to executors with each split."""

    reads_to_check: int = DEFAULT_READS_TO_CHECK
    max_read_size: int = DEFAULT_MAX_READ_SIZE
    bgzf_blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK
    # Check every inflated BGZF block's CRC32 (SAMv1 §4.1, RFC 1952 §2.3.1), as htslib does.
    verify_checksums: bool = True
