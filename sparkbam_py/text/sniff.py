"""What kind of text file this is: bgzipped (splittable), plain gzip, or uncompressed."""
from __future__ import annotations

import warnings

from ..bgzf.constants import GZIP_MAGIC
from ..bgzf.header import block_size_at, header_prefix_size
from ..bgzf.sniff import describe_non_bgzf
from ..errors import NotBgzfError

BGZF = "bgzf"
GZIP = "gzip"
PLAIN = "plain"
_SNIFF_BYTES = 512
# Magic numbers of compressions we cannot read as text (bzip2, xz, zstd).
_OTHER_COMPRESSIONS = (b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")


class NotSplittableWarning(UserWarning):
    """A plain gzip file is read whole, in one partition."""


def sniff_text(channel) -> str:
    """``"bgzf"``, ``"gzip"`` (not BGZF: one partition) or ``"plain"`` (uncompressed);
    NotBgzfError for another compression, whose bytes are not text."""
    head = channel.read_at(0, _SNIFF_BYTES)
    if head.startswith(GZIP_MAGIC):
        if len(head) >= header_prefix_size(head) and block_size_at(head) is not None:
            return BGZF
        return GZIP
    if head.startswith(_OTHER_COMPRESSIONS):
        raise NotBgzfError(describe_non_bgzf(head) + "; only bgzip, gzip and plain text are read", channel.path, 0)
    return PLAIN


def warn_not_splittable(path: str) -> None:
    """Say that ``path`` is read whole, and how to make it splittable."""
    warnings.warn(
        f"{path} is gzip-compressed but not BGZF, so it cannot be split: it is read whole in one "
        "partition. Recompress it with `bgzip` (htslib) to read it in parallel.",
        NotSplittableWarning, stacklevel=3)
