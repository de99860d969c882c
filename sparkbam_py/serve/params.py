"""Request parameters, validated: every bad value is a 4xx :class:`HttpError` with a message."""
from __future__ import annotations

import re
from typing import Dict, List, Optional
from urllib.parse import parse_qs

# Bounds on what one request may ask for (each costs O(value) time and memory).
MAX_BINS = 10_000
MAX_WIDTH, MAX_HEIGHT = 4_096, 2_048
MIN_WIDTH, MIN_HEIGHT = 16, 16
MAX_LIMIT, DEFAULT_LIMIT = 10_000, 1_000
MAX_READS_WINDOW = 200_000
MAX_PARAMETER_LENGTH = 200
_INTEGER = re.compile(r"^[0-9]{1,12}$")


class HttpError(Exception):
    """An answer other than 200: ``status`` and a message for the JSON body."""

    def __init__(self, status: int, message: str, headers: Optional[List[tuple]] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


class Query:
    """The query string of one request; each parameter may appear at most once."""

    def __init__(self, query_string: str, allowed: List[str]):
        try:
            parsed = parse_qs(query_string, keep_blank_values=True, strict_parsing=False, max_num_fields=20)
        except ValueError as bad:
            raise HttpError(400, f"bad query string: {bad}") from None
        unknown = sorted(set(parsed) - set(allowed))
        if unknown:
            raise HttpError(400, f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        self.values: Dict[str, str] = {}
        for name, values in parsed.items():
            if len(values) != 1:
                raise HttpError(400, f"parameter {name} given {len(values)} times")
            if len(values[0]) > MAX_PARAMETER_LENGTH:
                raise HttpError(400, f"parameter {name} is too long")
            self.values[name] = values[0]

    def has(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str) -> Optional[str]:
        return self.values.get(name)

    def integer(self, name: str, default: Optional[int] = None, low: int = 0, high: Optional[int] = None) -> int:
        """A non-negative decimal integer in ``[low, high]``; ``default`` when absent (None: required)."""
        if name not in self.values:
            if default is None:
                raise HttpError(400, f"parameter {name} is required")
            return default
        text = self.values[name]
        if not _INTEGER.match(text):
            raise HttpError(400, f"parameter {name} must be a non-negative integer, got {text!r}")
        value = int(text)
        if value < low or (high is not None and value > high):
            bound = f"{low}..{high}" if high is not None else f">= {low}"
            raise HttpError(400, f"parameter {name} must be in {bound}, got {value}")
        return value

    def range_in(self, length: int, max_width: Optional[int] = None):
        """``(start, end)``: a non-empty ``[start, end)`` inside ``[0, length)``; whole contig by default."""
        start = self.integer("start", 0)
        end = self.integer("end", length)
        if end <= start:
            raise HttpError(400, f"empty or reversed range: start {start} >= end {end}")
        if end > length:
            raise HttpError(400, f"end {end} is past the contig's end ({length})")
        if max_width is not None and end - start > max_width:
            raise HttpError(400, f"range of {end - start} bases is wider than the {max_width} allowed here")
        return start, end
