"""Say what a file is when it is not BGZF, so errors name the real problem."""
from __future__ import annotations

from ..errors import NotBgzfError
from .constants import GZIP_MAGIC
from .header import block_size_at, header_prefix_size

_SNIFF_BYTES = 512


def check_bgzf(channel) -> None:
    """Raise NotBgzfError, naming what the file looks like, unless it starts with a BGZF block."""
    head = channel.read_at(0, _SNIFF_BYTES)
    if len(head) >= header_prefix_size(head) and block_size_at(head) is not None:
        return
    raise NotBgzfError(describe_non_bgzf(head), channel.path, 0)


def describe_non_bgzf(head: bytes) -> str:
    if not head:
        return "empty file, not BGZF"
    if head.startswith(GZIP_MAGIC):
        return "gzip, but not BGZF (no valid BC extra subfield): recompress with bgzip or samtools"
    if head.startswith(b"CRAM"):
        return ("a CRAM file, not BAM: read it with spark.read.format('cram') (option 'reference' for its "
                "FASTA) or sparkbam_py.load_reads / count_reads, which recognise CRAM")
    if head.startswith(b"BAM\x01"):
        return "an uncompressed BAM stream without BGZF framing"
    if head.startswith(b"BZh"):
        return "bzip2-compressed, not BGZF"
    if head.startswith(b"\xfd7zXZ") or head.startswith(b"\x28\xb5\x2f\xfd"):
        return "xz/zstd-compressed, not BGZF"
    if head.startswith(b"@") or _looks_like_text(head):
        return "plain text (SAM?), not BGZF-compressed BAM"
    return f"not BGZF: starts with bytes {head[:8].hex(' ')}"


def _looks_like_text(head: bytes) -> bool:
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    return printable >= 0.95 * len(head)
