"""The store's chunk index: one row per chunk that is not all zeros.

A row names the chunk (contig, chunk number), where its bytes are (part file, offset,
size; size 0 for a chunk that is one value on every track, which its minimum then gives)
and its summaries per track: sum, minimum and maximum.  Chunks without a row are zero on
every track, so the index grows with the data, not with the genome.

Tasks hand rows to the driver as Arrow record batches of :func:`row_schema` (``part`` a
file name); the driver sorts them into a :class:`ChunkIndex` (``part`` a number into the
manifest's list of parts) and writes it as one Arrow IPC file, compressed with zstd.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CorruptDataError

ROW_FIELDS = ("contig", "chunk", "part", "offset", "nbytes", "sums", "mins", "maxs")


def row_schema(float_values: bool = False) -> pa.Schema:
    number = pa.float64() if float_values else pa.int64()
    return pa.schema([("contig", pa.int32()), ("chunk", pa.int32()), ("part", pa.string()), ("offset", pa.int64()),
                      ("nbytes", pa.int64()), ("sums", pa.list_(number)), ("mins", pa.list_(number)),
                      ("maxs", pa.list_(number))])


def spark_row_schema() -> str:
    """:func:`row_schema` (integer tracks) as a Spark DDL string, for ``mapInArrow``."""
    return ("contig int, chunk int, part string, offset long, nbytes long, sums array<bigint>, "
            "mins array<bigint>, maxs array<bigint>")


def rows_batch(contig, chunk, part: Sequence[str], offset, nbytes, sums, mins, maxs) -> pa.RecordBatch:
    """Index rows from per-chunk arrays (``sums``/``mins``/``maxs``: chunks x tracks)."""
    float_values = np.asarray(sums).dtype.kind == "f"
    n_tracks = np.asarray(sums).shape[1] if len(contig) else 0

    def lists(matrix):
        flat = pa.array(np.asarray(matrix).reshape(-1), pa.float64() if float_values else pa.int64())
        return pa.ListArray.from_arrays(pa.array(np.arange(len(contig) + 1, dtype=np.int32) * n_tracks), flat)

    return pa.RecordBatch.from_arrays(
        [pa.array(np.asarray(contig, np.int32)), pa.array(np.asarray(chunk, np.int32)), pa.array(list(part), pa.string()),
         pa.array(np.asarray(offset, np.int64)), pa.array(np.asarray(nbytes, np.int64)), lists(sums), lists(mins),
         lists(maxs)], schema=row_schema(float_values))


@dataclass(frozen=True)
class ChunkIndex:
    """Rows sorted by ``key = contig << 32 | chunk``; ``part`` indexes :attr:`parts`."""

    key: np.ndarray  # int64
    part: np.ndarray  # int32, -1 for chunks stored as a value
    offset: np.ndarray  # int64
    nbytes: np.ndarray  # int64
    sums: np.ndarray  # (rows, tracks) int64 or float64
    mins: np.ndarray
    maxs: np.ndarray
    parts: Tuple[str, ...]

    def __len__(self) -> int:
        return len(self.key)

    def rows_of_contig(self, contig: int) -> slice:
        lo, hi = np.searchsorted(self.key, [contig << 32, (contig + 1) << 32])
        return slice(int(lo), int(hi))

    def to_table(self) -> pa.Table:
        matrices = {name: getattr(self, name) for name in ("sums", "mins", "maxs")}
        columns = {"key": self.key, "part": self.part, "offset": self.offset, "nbytes": self.nbytes}
        columns.update({f"{name}:{t}": matrix[:, t] for name, matrix in matrices.items()
                        for t in range(matrix.shape[1])})
        return pa.table(columns, metadata={b"parts": "\n".join(self.parts).encode(),
                                           b"tracks": str(self.sums.shape[1]).encode()})


def index_from_rows(batches: Iterable[pa.RecordBatch], n_tracks: int) -> ChunkIndex:
    """Sorted index of task rows; a chunk given twice is a bug upstream and refused."""
    batches = [batch for batch in batches if batch.num_rows]
    if not batches:
        empty = np.zeros((0, n_tracks), dtype=np.int64)
        return ChunkIndex(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64),
                          empty, empty, empty, ())
    table = pa.Table.from_batches(batches).combine_chunks()
    key = (table["contig"].to_numpy().astype(np.int64) << 32) | table["chunk"].to_numpy().astype(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    if np.any(key[1:] == key[:-1]):
        raise CorruptDataError("two index rows name one chunk: pieces of a chunk were not merged before the commit")
    stored = pc.and_(pc.not_equal(table["part"], ""), pc.greater(table["nbytes"], 0))
    names = pc.if_else(stored, table["part"], pa.scalar(None, pa.string()))
    parts = sorted(set(names.drop_null().to_pylist()))
    numbers = pc.index_in(names, value_set=pa.array(parts, pa.string())).fill_null(-1)

    def matrix(name):
        values = table[name].combine_chunks().flatten().to_numpy()
        return values.reshape(table.num_rows, n_tracks)[order]

    return ChunkIndex(key, numbers.to_numpy().astype(np.int32)[order], table["offset"].to_numpy()[order],
                      table["nbytes"].to_numpy()[order], matrix("sums"), matrix("mins"), matrix("maxs"), tuple(parts))


def write_index(fs, path: str, index: ChunkIndex) -> int:
    """Write ``index`` as an Arrow IPC file; its size in bytes."""
    table = index.to_table()
    with fs.open(path, "wb") as out:
        with pa.ipc.new_file(out, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
            writer.write_table(table)
    return fs.size(path)


def read_index(fs, path: str, n_tracks: int) -> ChunkIndex:
    try:
        table = pa.ipc.open_file(pa.BufferReader(fs.cat_file(path))).read_all()
        metadata = table.schema.metadata or {}
        parts = tuple(name for name in metadata.get(b"parts", b"").decode().split("\n") if name)
        matrices: List[np.ndarray] = [np.stack([table[f"{name}:{t}"].to_numpy() for t in range(n_tracks)], axis=1)
                                      for name in ("sums", "mins", "maxs")]
        index = ChunkIndex(table["key"].to_numpy(), table["part"].to_numpy(), table["offset"].to_numpy(),
                           table["nbytes"].to_numpy(), *matrices, parts)
    except (pa.ArrowException, KeyError, ValueError) as bad:
        raise CorruptDataError(f"the coverage store's chunk index does not read: {bad}", path) from None
    if np.any(np.diff(index.key) <= 0) or np.any(index.part >= len(parts)):
        raise CorruptDataError("the coverage store's chunk index is out of order or names unknown parts", path)
    return index
