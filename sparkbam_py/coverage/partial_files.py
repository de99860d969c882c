"""Partial depths handed over through files beside the store, not through the driver's pipes.

Each task writes its split's events to one file in a scratch folder inside the store
(``_partials/<run>/``) and returns only a small index row per chunk (contig, chunk, file,
byte offset, event count).  The driver collects the index, then reads each contig's pieces
straight from the files, sums them and writes the contig: no shuffle, no sort, no events
through Arrow or pickles, and the driver holds one chunk's events at a time.  The folder is
removed once the store is written.  It only needs the store location to be reachable by the
executors too, as any Spark output is (a shared filesystem or an object store).

A piece is the chunk's start keys then its end keys, uint32 little-endian, ``events`` each
(keys as in :mod:`.partials`).
"""
from __future__ import annotations

import itertools
import os
import uuid
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import fsspec
import numpy as np

from ..errors import ConfigError
from .partials import ChunkEvents, PartialDepth, concatenate_events

PARTIALS_FOLDER = "_partials"
PIECES_SPARK_SCHEMA = "contig int, chunk int, file string, offset long, events long"
KEY_BYTES = 4
Piece = Tuple[int, int, str, int, int]  # (contig, chunk, file name, byte offset, events)


def new_partials_folder(store_url: str) -> str:
    """A fresh scratch folder URL inside the store for one run (concurrent runs never share one).

    A plain local path is made absolute here: executors resolve a relative one against
    their own working folder, not the driver's.
    """
    url = os.fspath(store_url)
    if "://" not in url and "::" not in url:
        url = os.path.abspath(url)
    return f"{url.rstrip('/')}/{PARTIALS_FOLDER}/{uuid.uuid4().hex}"


def write_partial(partial: PartialDepth, folder: str, storage_options: Optional[dict] = None) -> List[Piece]:
    """Write ``partial``'s events as one file in ``folder``; its index rows.

    The file name is unique per call, so a retried or speculative task attempt never
    writes into the file of another; only the attempt whose rows Spark keeps is read.
    """
    merged = list(partial.merged())
    if not merged:
        return []
    fs, root = fsspec.core.url_to_fs(folder, **(storage_options or {}))
    fs.makedirs(root, exist_ok=True)
    name = f"{uuid.uuid4().hex}.bin"
    pieces, offset = [], 0
    with fs.open(f"{root}/{name}", "wb") as out:
        for (contig, chunk), events in merged:
            out.write(events.starts.astype("<u4", copy=False).tobytes())
            out.write(events.ends.astype("<u4", copy=False).tobytes())
            pieces.append((int(contig), int(chunk), name, offset, len(events.starts)))
            offset += 2 * KEY_BYTES * len(events.starts)
    return pieces


def read_merged(folder: str, pieces: Iterable[Piece], storage_options: Optional[dict] = None
                ) -> Iterator[Tuple[int, int, ChunkEvents]]:
    """Each chunk's events summed over its pieces, in (contig, chunk) order."""
    fs, root = fsspec.core.url_to_fs(folder, **(storage_options or {}))
    ordered = sorted(pieces, key=lambda piece: (piece[0], piece[1], piece[2], piece[3]))
    for (contig, chunk), same in itertools.groupby(ordered, key=lambda piece: (piece[0], piece[1])):
        yield contig, chunk, concatenate_events(_read_piece(fs, root, piece) for piece in same)


def _read_piece(fs, root: str, piece: Piece) -> ChunkEvents:
    _, _, name, offset, events = piece
    size = KEY_BYTES * events
    try:
        raw = fs.cat_file(f"{root}/{name}", start=offset, end=offset + 2 * size)
    except FileNotFoundError as missing:
        raise ConfigError("a task's partial depth file is missing: the coverage store location must be "
                          "reachable by the executors as by the driver (a shared filesystem or an object "
                          "store)", f"{root}/{name}") from missing
    if len(raw) != 2 * size:
        raise ConfigError(f"partial depth file holds {len(raw)} bytes at {offset}, expected {2 * size}",
                          f"{root}/{name}")
    keys = np.frombuffer(raw, dtype="<u4")
    return ChunkEvents(keys[:events], keys[events:])


def remove_folder(folder: str, storage_options: Optional[dict] = None) -> None:
    """Remove the run's scratch folder, and ``_partials`` itself once no other run uses it."""
    fs, root = fsspec.core.url_to_fs(folder, **(storage_options or {}))
    if fs.exists(root):
        fs.rm(root, recursive=True)
    parent = root.rsplit("/", 1)[0]
    try:
        if fs.exists(parent) and not fs.ls(parent):
            fs.rmdir(parent)
    except OSError:
        pass  # another run's folder appeared meanwhile: it removes the parent when done


def pieces_of_rows(rows: Sequence) -> List[Piece]:
    """Index rows (Spark ``Row`` objects or tuples) as :data:`Piece` tuples."""
    return [(int(row[0]), int(row[1]), str(row[2]), int(row[3]), int(row[4])) for row in rows]
