"""bai-indexer's "index of the index" (``.bai.json``): per-reference byte ranges of a BAI.

The format (hammerlab/bai-indexer, read by pileup.js and BioDalliance)::

    {"chunks": [[start, end], ...], "minBlockIndex": n}

``chunks[i]`` is the ``[start, end)`` byte range of reference ``i``'s block in the ``.bai``,
in header order: the first starts at byte 8 (after magic and n_ref, SAMv1 §5.2), each ends
where the next starts, and the optional trailing ``n_no_coor`` is in none of them.  A
reference without data still has its 8 bytes (``n_bin = 0``, ``n_intv = 0``).  A reader that
fetches only ``chunks[i]`` of a remote ``.bai`` can parse that reference alone.

``minBlockIndex`` bounds the BAM header: over every non-zero linear-index entry of every
reference, the minimum of its compressed offset, plus 65536 when its in-block offset is
non-zero (the first record then starts inside that block, and a BGZF block is at most
64 KiB, SAMv1 §4.1).  ``[0, minBlockIndex)`` of the BAM therefore holds the whole header.
With no non-zero entry it stays at bai-indexer's sentinel, 1000000000.
"""
from __future__ import annotations

import json
import os
from typing import Dict, NamedTuple, Optional, Tuple

from ..errors import IndexFormatError
from ..pos import Pos
from .bai import BamIndex, IndexSource, ReferenceIndex, parse_bai, parse_bai_reference, read_index_bytes

# SAMv1 §5.2: magic (4 bytes) and n_ref (int32) come before the first reference block.
FIRST_REFERENCE_OFFSET = 8
# bai-indexer's starting value for minBlockIndex, kept when no linear entry is non-zero.
NO_MIN_BLOCK_INDEX = 1_000_000_000
# SAMv1 §4.1: a BGZF block holds at most 64 KiB, so a header ending inside block c ends
# before c + 65536.
MAX_BLOCK_SIZE = 1 << 16


class BaiJson(NamedTuple):
    """A parsed ``.bai.json``: one ``(start, end)`` byte range per reference, and the
    bound on the BAM header's compressed size."""

    chunks: Tuple[Tuple[int, int], ...]
    min_block_index: int

    def to_dict(self) -> dict:
        return {"chunks": [list(pair) for pair in self.chunks], "minBlockIndex": self.min_block_index}


def min_block_index(index: BamIndex) -> int:
    """bai-indexer's ``minBlockIndex`` of a parsed BAI (see the module docstring)."""
    best = NO_MIN_BLOCK_INDEX
    for reference in index.references:
        for voffset in reference.linear_index:  # the stored entries, not the back-filled ones
            if voffset:
                pos = Pos.from_virtual(voffset)
                best = min(best, pos.block_pos + (MAX_BLOCK_SIZE if pos.offset else 0))
    return best


def bai_json_of(index: BamIndex) -> BaiJson:
    """The ``.bai.json`` content of an already parsed BAI."""
    if index.kind != "BAI":
        raise IndexFormatError(f"a .bai.json indexes BAI files, not {index.kind}", index.path)
    return BaiJson(tuple(ref.span for ref in index.references), min_block_index(index))


def build_bai_json(bai_bytes: bytes, path: Optional[str] = None) -> dict:
    """``{"chunks": [[start, end], ...], "minBlockIndex": n}`` for the BAI in ``bai_bytes``."""
    return bai_json_of(parse_bai(bai_bytes, path)).to_dict()


def default_bai_json_path(bai_path: str) -> str:
    """Where the ``.bai.json`` goes: the BAM's name plus ``.bai.json``, beside the ``.bai``.

    bai-indexer's usage writes ``x.bam.bai`` to ``x.bam.bai.json``, and its consumers look
    for ``<bam>.bai.json`` (CycleDash: ``bam_path.replace('.bam', '.bam.bai.json')``).  So
    ``x.bam.bai`` gives ``x.bam.bai.json``, and an index named ``x.bai`` (for ``x.bam``) gives
    ``x.bam.bai.json`` too; any other name just gains ``.json``.
    """
    bai_path = os.fspath(bai_path)
    if bai_path.endswith(".bam.bai") or not bai_path.endswith(".bai"):
        return bai_path + ".json"
    return bai_path[: -len(".bai")] + ".bam.bai.json"


def write_bai_json(bai_path: str, out_path: Optional[str] = None) -> Dict[str, object]:
    """Write the ``.bai.json`` of ``bai_path``; returns a summary for the CLI.

    Summary keys: ``path`` (the JSON written), ``bai``, ``references``, ``bytes`` (of the
    JSON), ``bai_bytes``, ``min_block_index``.
    """
    data, path = read_index_bytes(bai_path)
    content = bai_json_of(parse_bai(data, path))
    out_path = os.fspath(out_path) if out_path is not None else default_bai_json_path(bai_path)
    text = json.dumps(content.to_dict())
    with open(out_path, "w", encoding="ascii") as out:
        out.write(text)
    return {
        "path": out_path,
        "bai": os.fspath(bai_path),
        "references": len(content.chunks),
        "bytes": len(text),
        "bai_bytes": len(data),
        "min_block_index": content.min_block_index,
    }


def read_bai_json(source: IndexSource) -> BaiJson:
    """Read and check a ``.bai.json`` from a path, URL, channel or bytes."""
    data, path = read_index_bytes(source)
    try:
        content = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"not a .bai.json: {exc}", path) from exc
    return parse_bai_json(content, path)


def parse_bai_json(content: object, path: Optional[str] = None) -> BaiJson:
    """Check a decoded ``.bai.json`` object: integer ranges, from byte 8, contiguous."""
    if not isinstance(content, dict) or "chunks" not in content or "minBlockIndex" not in content:
        raise IndexFormatError("a .bai.json needs 'chunks' and 'minBlockIndex'", path)
    chunks = tuple(_range(pair, i, path) for i, pair in enumerate(content["chunks"]))
    expected_start = FIRST_REFERENCE_OFFSET
    for i, (start, end) in enumerate(chunks):
        if start != expected_start or end < start:
            raise IndexFormatError(
                f"reference {i}: range [{start}, {end}) should start at {expected_start}"
                " and not run backwards",
                path,
            )
        expected_start = end
    min_block = content["minBlockIndex"]
    if not _is_int(min_block) or min_block < 0:
        raise IndexFormatError(f"minBlockIndex must be a non-negative integer, got {min_block!r}", path)
    return BaiJson(chunks, min_block)


def _range(pair: object, i: int, path: Optional[str]) -> Tuple[int, int]:
    if not isinstance(pair, list) or len(pair) != 2 or not all(_is_int(x) for x in pair):
        raise IndexFormatError(f"reference {i}: expected [start, end] integers, got {pair!r}", path)
    return pair[0], pair[1]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_reference_index(bai: IndexSource, bai_json: BaiJson, ref_id: int) -> ReferenceIndex:
    """One reference's index, fetching only its byte range of the ``.bai``.

    ``bai`` is typically a remote channel (``read_at``/``read_fully``); bytes work too.
    """
    if not 0 <= ref_id < len(bai_json.chunks):
        raise IndexError(f"ref_id {ref_id} outside the {len(bai_json.chunks)} references of the .bai.json")
    start, end = bai_json.chunks[ref_id]
    data, path = _read_range(bai, start, end - start)
    if len(data) != end - start:
        raise IndexFormatError(
            f"reference {ref_id}: .bai.json range [{start}, {end}) runs past the end of the .bai",
            path,
            start,
        )
    return parse_bai_reference(data, start, path)


def _read_range(source: IndexSource, offset: int, n: int) -> Tuple[bytes, Optional[str]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[offset:offset + n]), None
    if isinstance(source, (str, os.PathLike)):
        from ..channel import open_channel  # deferred: only path/URL callers need L1

        with open_channel(os.fspath(source)) as channel:
            return bytes(channel.read_at(offset, n)), os.fspath(source)
    return bytes(source.read_at(offset, n)), getattr(source, "path", None)

