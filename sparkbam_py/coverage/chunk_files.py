"""What tasks write into a store: chunks packed into part files, and their index rows.

Every task writes at most one part file, under a name no other task attempt uses
(``parts/<uuid>.bin``, as ``convert`` names its parts), and returns the index rows of its
chunks (:mod:`.store_index`).  Only the rows of attempts Spark keeps reach the manifest, so
a killed, failed or speculative attempt leaves at most an unreferenced file, which the
driver removes when it commits (:mod:`.store_commit`).

Two kinds of task write chunks.  A split task writes the runs of its own reads; where
one chunk got events from more than one split or file, the pieces are summed by a merge
task (:func:`merge_pieces`), which reads them back by byte range and writes the sum.
"""
from __future__ import annotations

import os
import uuid
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import fsspec
import numpy as np
import pyarrow as pa

from .chunk_codec import decode_chunk, encode_chunk
from .runs import ChunkRuns, runs_from_changes
from .store_index import row_schema, rows_batch

PARTS_FOLDER = "parts"


class Piece(NamedTuple):
    """One task's share of one chunk, as its index row gave it."""

    part: str  # "" when the piece is one value per track
    offset: int
    nbytes: int
    mins: Tuple  # per track: the value of a constant piece


class MergeGroup(NamedTuple):
    """The pieces of one chunk, to be summed by a merge task."""

    key: int  # contig << 32 | chunk
    size: int  # bases
    pieces: Tuple[Piece, ...]


def store_filesystem(store_url: str, storage_options: Optional[dict] = None):
    return fsspec.core.url_to_fs(str(store_url), **(storage_options or {}))


def absolute_store_url(store_url) -> str:
    """A plain local path made absolute: executors would resolve a relative one against
    their own working folder, not the driver's."""
    url = os.fspath(store_url)
    return url if "://" in url or "::" in url else os.path.abspath(url)


def write_chunks(runs: Union[ChunkRuns, Iterable[ChunkRuns]], store_url: str,
                 storage_options: Optional[dict] = None) -> pa.RecordBatch:
    """Index rows of every chunk of ``runs`` (one batch, or several of distinct chunks) that
    is not all zeros; chunks of more than one value go, encoded, into one new part file."""
    batches = [runs] if isinstance(runs, ChunkRuns) else runs
    with _PartFile(store_url, storage_options) as part:
        rows = [_write_batch(batch, part) for batch in batches]
    rows = [batch for batch in rows if batch.num_rows]
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=row_schema())
    return pa.Table.from_batches(rows).combine_chunks().to_batches()[0] if len(rows) > 1 else rows[0]


class _PartFile:
    """A part file under a fresh name, created when the first chunk is written."""

    def __init__(self, store_url: str, storage_options: Optional[dict]):
        self.store_url, self.storage_options = store_url, storage_options
        self.name, self.handle, self.size = f"{PARTS_FOLDER}/{uuid.uuid4().hex}.bin", None, 0

    def write(self, blob: bytes) -> int:
        """Append ``blob``; its offset."""
        if self.handle is None:
            fs, root = store_filesystem(self.store_url, self.storage_options)
            fs.makedirs(f"{root}/{PARTS_FOLDER}", exist_ok=True)
            self.handle = fs.open(f"{root}/{self.name}", "wb")
        self.handle.write(blob)
        self.size += len(blob)
        return self.size - len(blob)

    def __enter__(self) -> "_PartFile":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.handle is not None:
            self.handle.close()


def _write_batch(runs: ChunkRuns, part: _PartFile) -> pa.RecordBatch:
    sums, mins, maxs = runs.summaries()
    counts = runs.runs_per_group()
    constant = np.all(counts == 1, axis=1)
    kept = ~(constant & np.all(maxs == 0, axis=1))
    stored = np.flatnonzero(kept & ~constant)
    offsets = np.zeros(len(runs), dtype=np.int64)
    nbytes = np.zeros(len(runs), dtype=np.int64)
    names = np.full(len(runs), "", dtype=object)
    lengths = runs.lengths() if stored.size else None
    for index in stored:
        rows = runs.group_slice(index)
        blob = encode_chunk(lengths[rows], runs.values[rows], counts[index])
        offsets[index], nbytes[index] = part.write(blob), len(blob)
    names[stored] = part.name
    keys = runs.keys[kept]
    return rows_batch(keys >> 32, keys & 0xFFFFFFFF, names[kept].tolist(), offsets[kept], nbytes[kept],
                      sums[kept], mins[kept], maxs[kept])


def pieces_to_merge(batches: Sequence[pa.RecordBatch], sizes) -> Tuple[List[pa.RecordBatch], List[MergeGroup]]:
    """Split task rows into those of chunks one task wrote whole (final as they are) and
    the groups of pieces of chunks several tasks wrote. ``sizes(key)``: bases of a chunk."""
    batches = [batch for batch in batches if batch.num_rows]
    if not batches:
        return [], []
    table = pa.Table.from_batches(batches)
    key = (table["contig"].to_numpy().astype(np.int64) << 32) | table["chunk"].to_numpy().astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    repeated = np.zeros(len(key), dtype=bool)
    same = sorted_keys[1:] == sorted_keys[:-1]
    repeated[order[1:][same]] = True
    repeated[order[:-1][same]] = True
    whole = table.filter(pa.array(~repeated)).to_batches()
    shared = np.flatnonzero(repeated)
    shared = shared[np.argsort(key[shared], kind="stable")]
    parts, offsets = table["part"].to_pylist(), table["offset"].to_numpy()
    nbytes, mins = table["nbytes"].to_numpy(), table["mins"].to_pylist()
    groups, bounds = [], np.flatnonzero(np.diff(key[shared])) + 1
    for rows in np.split(shared, bounds) if shared.size else []:
        pieces = tuple(Piece(parts[r], int(offsets[r]), int(nbytes[r]), tuple(mins[r])) for r in rows)
        groups.append(MergeGroup(int(key[rows[0]]), int(sizes(int(key[rows[0]]))), pieces))
    return whole, groups


def merge_pieces(groups: Sequence[MergeGroup], store_url: str, n_tracks: int, chunk_length: int,
                 storage_options: Optional[dict] = None) -> pa.RecordBatch:
    """Sum the pieces of each group's chunk and write the sums (:func:`write_chunks`)."""
    fs, root = store_filesystem(store_url, storage_options)
    stored = [(g, p) for g, group in enumerate(groups) for p in group.pieces if p.nbytes]
    blobs = fs.cat_ranges([f"{root}/{p.part}" for _, p in stored], [p.offset for _, p in stored],
                          [p.offset + p.nbytes for _, p in stored]) if stored else []
    chunk, track, position, step = [], [], [], []
    for (g, piece), blob in zip(stored, blobs):
        if isinstance(blob, Exception):
            raise blob
        starts, values, offsets = decode_chunk(blob, n_tracks, groups[g].size, f"{root}/{piece.part}@{piece.offset}")
        counts = np.diff(offsets)
        steps = np.diff(values, prepend=np.int64(0))
        steps[offsets[:-1]] = values[offsets[:-1]]  # each track starts from 0
        chunk.append(np.full(len(starts), g))
        track.append(np.repeat(np.arange(n_tracks), counts))
        position.append(starts)
        step.append(steps.astype(np.int64))
    for g, group in enumerate(groups):
        for piece in group.pieces:
            if not piece.nbytes:  # one value per track: a step at 0
                chunk.append(np.full(n_tracks, g))
                track.append(np.arange(n_tracks))
                position.append(np.zeros(n_tracks, dtype=np.int64))
                step.append(np.asarray(piece.mins, dtype=np.int64))
    keys = np.asarray([group.key for group in groups], dtype=np.int64)
    sizes = np.asarray([group.size for group in groups], dtype=np.int64)
    flat = [np.concatenate(column) if column else np.zeros(0, np.int64) for column in (chunk, track, position, step)]
    runs = runs_from_changes(keys, sizes, n_tracks, *flat, chunk_length)
    return write_chunks(runs, store_url, storage_options)
