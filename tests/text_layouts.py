"""Bgzipped text written with the project's BGZF writer in every layout the splitter meets,
with the ground truth the writer knows: each line's text and its htslib virtual offset."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple

from sparkbam_py.bgzf.writer import BgzfWriter
from sparkbam_py.pos import Pos

HTSJDK_BLOCK = 65_498


class TextFixture(NamedTuple):
    path: Path
    lines: List[str]           # without terminators, as the reader returns them
    positions: List[int]       # htslib virtual offsets of the line starts


def sample_text(seed: int = 1, lines: int = 3000, crlf: bool = False, trailing_newline: bool = True,
                long_line: int = 0, header: int = 5) -> bytes:
    """VCF-like lines of varied length, a few empty ones, optionally one very long line."""
    rng = random.Random(seed)
    end = b"\r\n" if crlf else b"\n"
    out = [b"##header line %d" % i + end for i in range(header)]
    for i in range(lines):
        if i % 97 == 13:
            out.append(end)  # an empty line
            continue
        width = rng.choice((5, 40, 120, 700))
        body = b"chr%d\t%d\t" % (i % 3 + 1, i * 10) + bytes(rng.choice(b"ACGT") for _ in range(width))
        if long_line and i == lines // 2:
            body += b"N" * long_line
        out.append(body + end)
    data = b"".join(out)
    return data if trailing_newline else data[: -len(end)]


def truth_lines(data: bytes) -> List[str]:
    text = data.decode()
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def line_starts(data: bytes) -> List[int]:
    starts, at = [], 0
    while at < len(data):
        starts.append(at)
        newline = data.find(b"\n", at)
        if newline < 0:
            break
        at = newline + 1
    return starts


def write_layout(path: Path, data: bytes, cuts: List[int], empty_at=(), level: int = 6,
                 eof_marker: bool = True) -> TextFixture:
    """Blocks ending at each inflated offset in ``cuts``; empty blocks before each offset
    in ``empty_at``."""
    bounds = sorted(set([0, len(data)] + [c for c in cuts if 0 < c < len(data)]))
    # No block holds more than htslib's 0xff00 bytes (a long line is cut further).
    bounds = sorted(set(bounds + [b for lo, hi in zip(bounds, bounds[1:]) for b in range(lo, hi, 0xFF00)]))
    empties = set(empty_at)
    names: Dict[int, Pos] = {}
    with BgzfWriter(str(path), level=level) as writer:
        for lo, hi in zip(bounds, bounds[1:]):
            if lo in empties:
                names.setdefault(lo, writer.tell_virtual())
                writer.write_empty_block()
            names.setdefault(lo, writer.tell_virtual())
            written = writer.write_block(data[lo:hi])
            names.setdefault(("block", lo), Pos(written.start, 0))
        writer.close(eof_marker)
    starts = line_starts(data)
    block_of = [(lo, names[("block", lo)].block_pos) for lo in bounds[:-1]]
    positions = []
    k = 0
    for u in starts:
        while k + 1 < len(block_of) and block_of[k + 1][0] <= u:
            k += 1
        lo, block = block_of[k]
        pos = names[u] if u == lo else Pos(block, u - lo)
        positions.append(pos.virtual)
    return TextFixture(path, truth_lines(data), positions)


def _fixed(size: int) -> Callable[[bytes, random.Random], List[int]]:
    return lambda data, rng: list(range(size, len(data), size))


def _tiny(data: bytes, rng: random.Random) -> List[int]:
    cuts, at = [], 0
    while at < len(data):
        at += rng.randint(100, 500)
        cuts.append(at)
    return cuts


def _at_line_ends(data: bytes, rng: random.Random) -> List[int]:
    """Every block ends right after a newline (a line starts exactly at each block start)."""
    starts = line_starts(data)
    return starts[1::7]


LAYOUTS: Dict[str, Callable[[bytes, random.Random], List[int]]] = {
    "htslib": _fixed(0xFF00),
    "htsjdk": _fixed(HTSJDK_BLOCK),
    "tiny": _tiny,
    "line_aligned": _at_line_ends,
    "small": _fixed(1000),
}


def build_text_fixture(tmp: Path, name: str, layout: str, data: bytes, seed: int = 7, empty_blocks: bool = False,
                       level: int = 6, eof_marker: bool = True, header_cut: bool = False) -> TextFixture:
    rng = random.Random(seed)
    cuts = LAYOUTS[layout](data, rng)
    if header_cut:  # the header ends exactly on a block boundary
        header_end = data.index(b"\n", data.rindex(b"##")) + 1
        cuts.append(header_end)
    empty_at = rng.sample(sorted(set(cuts)), min(6, len(cuts))) if empty_blocks else ()
    if empty_blocks and header_cut:
        empty_at = list(empty_at) + [header_end]
    return write_layout(tmp / f"{name}.gz", data, cuts, empty_at, level, eof_marker)
