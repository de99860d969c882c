"""The header of a written BAM: where it comes from, how it is checked, how it is encoded.

It comes from an existing BAM (``headerFrom``: its text and binary reference dictionary,
SAMv1 §4.2) or from SAM header text (references from its ``@SQ`` lines, SAMv1 §1.3).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

import pyarrow as pa

from ..bam.layout import BAM_MAGIC
from .errors import HeaderMismatchError

# SAMv1 §1.3: @SQ SN may hold any printable character but these, and LN is 1..2^31-1.
_MAX_REFERENCE_LENGTH = 2**31 - 1


@dataclass(frozen=True)
class WriteHeader:
    """SAM header text and the reference dictionary, in order."""

    text: str
    reference_names: Tuple[str, ...]
    reference_lengths: Tuple[int, ...]

    @property
    def names_array(self) -> pa.Array:
        return pa.array(list(self.reference_names), type=pa.string())

    def to_bytes(self) -> bytes:
        """magic, l_text, text, n_ref, then l_name, name (NUL-terminated), l_ref per reference."""
        text = self.text.encode("utf-8")
        out = [BAM_MAGIC, struct.pack("<i", len(text)), text, struct.pack("<i", len(self.reference_names))]
        for name, length in zip(self.reference_names, self.reference_lengths):
            raw = name.encode("ascii") + b"\0"
            out.append(struct.pack("<i", len(raw)) + raw + struct.pack("<i", length))
        return b"".join(out)

    def with_sort_order(self, order: str) -> "WriteHeader":
        """The header with ``@HD SO:order`` (an ``@HD`` line is added when there is none)."""
        lines = self.text.splitlines()
        if lines and lines[0].startswith("@HD"):
            fields = [f for f in lines[0].split("\t") if not f.startswith(("SO:", "GO:", "SS:"))]
            lines[0] = "\t".join(fields + [f"SO:{order}"])
        else:
            lines.insert(0, f"@HD\tVN:1.6\tSO:{order}")
        return WriteHeader("\n".join(lines) + "\n", self.reference_names, self.reference_lengths)

    @property
    def sort_order(self) -> Optional[str]:
        first = self.text.split("\n", 1)[0]
        if not first.startswith("@HD"):
            return None
        match = re.search(r"\tSO:([^\t\r]+)", first)
        return match.group(1) if match else None


def header_from_bam(path: str) -> WriteHeader:
    """The header of the BAM at ``path`` (local path or URL)."""
    from ..bam.file import open_bam

    with open_bam(path) as bam:
        header = bam.header
    return WriteHeader(header.text, tuple(header.reference_names), tuple(header.reference_lengths))


def header_from_text(text: str) -> WriteHeader:
    """A header from SAM header text; references from its ``@SQ`` lines (SN, LN)."""
    names, lengths = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("@"):
            if line.strip():
                raise HeaderMismatchError(f"SAM header line {number} does not start with '@': {line[:60]!r}")
            continue
        if not line.startswith("@SQ"):
            continue
        fields = dict(f.split(":", 1) for f in line.split("\t")[1:] if ":" in f)
        if "SN" not in fields or "LN" not in fields:
            raise HeaderMismatchError(f"SAM header line {number}: @SQ needs SN and LN: {line[:80]!r}")
        try:
            length = int(fields["LN"])
        except ValueError:
            raise HeaderMismatchError(f"SAM header line {number}: LN {fields['LN']!r} is not a number") from None
        if not 1 <= length <= _MAX_REFERENCE_LENGTH:
            raise HeaderMismatchError(f"SAM header line {number}: LN {length} outside 1..{_MAX_REFERENCE_LENGTH}")
        names.append(fields["SN"])
        lengths.append(length)
    if len(set(names)) != len(names):
        raise HeaderMismatchError("the SAM header names a reference twice")
    if text and not text.endswith("\n"):
        text += "\n"
    return WriteHeader(text, tuple(names), tuple(lengths))


def resolve_header(header=None, header_from: Optional[str] = None) -> WriteHeader:
    """The output header: a :class:`WriteHeader`, SAM text, or the header of ``header_from``."""
    if isinstance(header, WriteHeader):
        return header
    if (header is None) == (header_from is None):
        raise HeaderMismatchError("give exactly one of header (SAM header text) and headerFrom (a BAM path)")
    if header_from is not None:
        return header_from_bam(header_from)
    return header_from_text(header)


def check_references(header: WriteHeader, names: Iterable[Optional[str]]) -> None:
    """A clear error when the rows name a reference the header lacks (before any task runs)."""
    known = set(header.reference_names)
    unknown = sorted({name for name in names if name is not None and name not in known})
    if unknown:
        shown = ", ".join(map(repr, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise HeaderMismatchError(
            f"the rows name reference(s) the header lacks: {shown}; the header has {len(known)} "
            f"reference(s){': ' + ', '.join(header.reference_names[:5]) if known else ''}")


def common_header(paths) -> WriteHeader:
    """The first input's header, once every input is known to share its references."""
    headers = [header_from_bam(path) for path in paths]
    first = headers[0]
    for path, header in zip(paths[1:], headers[1:]):
        if (header.reference_names, header.reference_lengths) != (first.reference_names, first.reference_lengths):
            raise HeaderMismatchError(f"its references differ from those of {paths[0]}: inputs must share one "
                                      "reference dictionary to be written into one BAM", path)
    return first
