"""What every subcommand shares: its result shape, output files, and progress on stderr."""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TextIO, Tuple


@dataclass
class Result:
    """A command's outcome: ``lines`` for people, ``data`` for ``--json``; ``exit_code``."""

    lines: List[str] = field(default_factory=list)
    data: Dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0


class Command:
    """One subcommand: a name, a help line, its arguments, and ``run``.

    ``formats`` names the formats its input files may be (registry names, preferred first;
    empty: it takes none); :meth:`input_format` decides which one, or refuses with a typed error.
    """

    name = ""
    help = ""
    formats: Tuple[str, ...] = ()

    def input_format(self, paths):
        """The format of ``paths`` among :attr:`formats` (see :func:`sparkbam_py.formats.format_for`)."""
        from ..formats import format_for

        return format_for(paths, self.formats, self.name)

    def configure(self, parser: argparse.ArgumentParser) -> None:
        raise NotImplementedError

    def run(self, args: argparse.Namespace) -> Result:
        raise NotImplementedError


@contextlib.contextmanager
def output_file(path: Optional[str]):
    """A text file to write, or stdout for ``-``."""
    if path in (None, "-"):
        yield sys.stdout
        return
    with open(path, "w", encoding="ascii", newline="\n") as handle:
        yield handle


def add_verify_checksums_argument(parser: argparse.ArgumentParser) -> None:
    """``--no-verify-checksums``: skip the CRC32 check of every BGZF block (``args.verify_checksums``)."""
    parser.add_argument("--no-verify-checksums", dest="verify_checksums", action="store_false",
                        help="do not check each BGZF block's CRC32 (faster by a few percent; a corrupted "
                             "byte may then pass unnoticed)")


class Progress:
    """A one-line progress meter on stderr, at most once a second, only for terminals
    (or when forced), so logs and pipes stay clean."""

    def __init__(self, label: str, total: int, enabled: Optional[bool] = None, stream: TextIO = sys.stderr):
        self.label = label
        self.total = max(total, 1)
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._started = time.monotonic()

    def update(self, done: int, detail: str = "") -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 1.0:
            return
        self._last = now
        share = 100.0 * done / self.total
        self.stream.write(f"\r{self.label}: {share:5.1f}% {detail} ({now - self._started:.0f} s)")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()
