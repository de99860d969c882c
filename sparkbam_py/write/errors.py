"""Errors of the writer, in the library's one hierarchy (``sparkbam_py.errors``)."""
from __future__ import annotations

from ..errors import ConfigError, SparkBamError


class RecordEncodeError(SparkBamError, ValueError):
    """A row that cannot become a valid BAM record (bad CIGAR, tag text, length...).

    The message names the row (its index in the batch, and the batch's place in the task).
    """


class HeaderMismatchError(ConfigError):
    """The header does not fit the rows: a reference the rows name is not in it, or the
    header cannot be read or parsed."""


class CommitError(SparkBamError, RuntimeError):
    """The driver could not assemble the committed parts into the output."""


def encode_error(row: int, message: str) -> RecordEncodeError:
    """A :class:`RecordEncodeError` for row ``row`` of the batch being encoded."""
    return RecordEncodeError(f"row {row} of the batch: {message}")
