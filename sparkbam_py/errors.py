"""One error hierarchy for the whole library.

Every class also subclasses the builtin a caller would naturally catch (``ValueError``
for bad data, ``EOFError`` for truncation, ``FileNotFoundError`` for missing inputs,
``OSError`` for I/O), so generic handlers keep working.  Truncation is its own branch,
apart from corruption: a truncated file may be fine once it finishes copying, a corrupt
one never is.

Messages always name the path and, where one exists, the offset: as ``block:offset``
(a :class:`~sparkbam_py.pos.Pos`) and as the compressed byte.
"""
from __future__ import annotations

from typing import Optional, Union

from .pos import Pos

Where = Union[Pos, int, None]


def describe_location(path: Optional[str], where: Where) -> str:
    """``path at block:offset (compressed byte N)``; or ``path at compressed byte N``."""
    text = str(path) if path is not None else "<stream>"
    if isinstance(where, Pos):
        text += f" at {where} (compressed byte {where.block_pos})"
    elif where is not None:
        text += f" at compressed byte {where}"
    return text


class SparkBamError(Exception):
    """Base of every error this library raises on purpose.

    The message names the path and, where it applies, the position:
    ``x.bam at 1048566:0 (compressed byte 1048566): CRC32 mismatch...``. Subclasses also
    derive from the built-in that fits (``FileNotFoundError``, ``ValueError``, ``EOFError``...),
    and errors pickle, so they travel from Spark executors back to the driver.

    Attributes:
        path: the file or URL, when known.
        where: a :class:`Pos`, or a compressed byte offset, or None.
        detail: the message without the location.
    """

    def __init__(self, message: str, path: Optional[str] = None, where: Where = None):
        self.path = path
        self.where = where
        self.detail = message
        super().__init__(f"{describe_location(path, where)}: {message}")

    @property
    def pos(self) -> Optional[Pos]:
        """The position, when the error has one."""
        return self.where if isinstance(self.where, Pos) else None

    @property
    def compressed_offset(self) -> Optional[int]:
        """The compressed byte offset of the error, when known."""
        if isinstance(self.where, Pos):
            return self.where.block_pos
        return self.where

    def __reduce__(self):
        # Exceptions travel from Spark executors back to the driver by pickle.
        return (_rebuild_error, (type(self), self.detail, self.path, self.where))


def _rebuild_error(cls, message, path, where):
    return cls(message, path, where)


class MissingInputError(SparkBamError, FileNotFoundError):
    """The path does not exist (or the remote store answered 404)."""


class InputIOError(SparkBamError, OSError):
    """The byte source failed: short reads after retries, connection errors."""


class TruncatedError(SparkBamError, EOFError):
    """The data stops before a structure it started is complete."""


class CorruptDataError(SparkBamError, ValueError):
    """The bytes are present but cannot be what they claim to be."""


class NotBgzfError(CorruptDataError):
    """The input is not BGZF at all (plain gzip, raw BAM, text, CRAM, empty...)."""


class CorruptBlockError(CorruptDataError):
    """A BGZF block whose header, deflate stream, ISIZE or CRC32 is wrong."""


class BlockNotFoundError(CorruptDataError):
    """No chain of valid BGZF block headers starts within the search window."""


class WrongFormatError(CorruptDataError):
    """BGZF, but the payload is not BAM (no ``BAM\\1`` magic): SAM text, VCF, CRAM..."""


class UnsupportedFormatError(WrongFormatError):
    """A file of a format this entry point does not take (a VCF given to ``load_reads``, a
    CRAM to ``compute_coverage``), or an operation its format lacks (writing CRAM).

    ``sniffed`` names the format the file was recognised as (a registry name, see
    :mod:`sparkbam_py.formats`), or None when nothing was recognised.
    """

    def __init__(self, message: str, path: Optional[str] = None, where: Where = None,
                 sniffed: Optional[str] = None):
        self.sniffed = sniffed
        super().__init__(message, path, where)

    def __reduce__(self):
        return (_rebuild_unsupported, (type(self), self.detail, self.path, self.where, self.sniffed))


def _rebuild_unsupported(cls, message, path, where, sniffed):
    return cls(message, path, where, sniffed)


class CorruptRecordError(CorruptDataError):
    """A BAM record whose structure is impossible (negative or overlong lengths)."""


class RecordStartNotFoundError(CorruptDataError):
    """No record start was accepted within the search bound (``max_read_size``)."""


class SplitVerificationError(SparkBamError, RuntimeError):
    """Two neighbouring splits disagree on the record boundary between them.

    Raised instead of returning data that could have lost or duplicated reads.
    """


class IndexFormatError(CorruptDataError):
    """A BAI/CSI/SBI/``.records`` file that does not parse or does not match its BAM."""


class ConfigError(SparkBamError, ValueError):
    """A bad option value (split size, interval string, checker name...)."""


class SparkVersionError(ConfigError):
    """What was asked for needs a newer Spark than the session runs (the message names both)."""


class WorkerLostError(SparkBamError, RuntimeError):
    """A local worker process died (killed, out of memory, crashed) while reading a split:
    its records are missing, so the read stops rather than return fewer."""
