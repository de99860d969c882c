"""The ``Range`` header of an HTTP request, as a server answers it (RFC 9110 §14)."""
from __future__ import annotations

import re
from typing import Optional, Tuple

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """``(start, end_exclusive)`` of a single ``bytes=a-b`` / ``a-`` / ``-suffix`` range.

    None means "serve the whole file" (no header, or a form we do not support, which
    RFC 9110 lets a server ignore); ``(size, size)`` means unsatisfiable.
    """
    match = _SINGLE_RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        return max(0, size - int(last)), size
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignored, as RFC 9110 §14.2 allows
    if start >= size:
        return size, size
    return start, size if last == "" else min(int(last) + 1, size)
