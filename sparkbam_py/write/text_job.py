"""A text write job (VCF, BED, GFF, TSV): what the driver decides, what each task does.

As for BAM (:mod:`.job`): the driver builds a :class:`TextWriteJob` before any task runs
(output path, the format's line writer, settings, a job-unique parts folder); each task
writes its partition to ``<parts>/part-<partition>-<attempt id>`` and returns a
:class:`~.text_part.TextPartSummary`; the commit (:mod:`.text_commit`) uses only the
summaries of successful attempts, so a killed or retried attempt is never merged.

``sort_order`` is for writers that cannot shuffle (Spark's data source): each task sorts
its own rows (contigs in that order, others after it by name, then begin and end), and the
commit puts the parts in order.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from itertools import chain
from typing import Iterable, Iterator, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from ..config import parse_bool
from ..errors import ConfigError
from ..text.write_lines import LineWriter
from .job import check_backend, check_level, filesystem, stage_parts
from .part import WriteSettings
from .text_part import TextPartSummary, TextPartWriter, empty_summary

INDEX_KINDS = ("tbi", "csi")
_RANK = "__sparkbam_contig_rank"


def index_kind(value) -> Optional[str]:
    """The ``index`` option: true (``.tbi``; ``.csi`` past 2^29), false, ``tbi`` or ``csi``."""
    text = str(value).strip().lower()
    if text in INDEX_KINDS:
        return text
    return "tbi" if parse_bool("index", text) else None


@dataclass(frozen=True)
class TextWriteJob:
    """Everything a task needs; picklable and small (a header is its largest part)."""

    path: str
    parts_dir: str
    line_writer: LineWriter
    settings: WriteSettings
    sharded: bool = False
    index_kind: Optional[str] = "tbi"  # "tbi" (csi when needed), "csi" or None
    sort_order: Optional[Tuple[str, ...]] = None  # sort each task's rows (see the module doc)
    append: bool = False

    @classmethod
    def create(cls, path: str, line_writer: LineWriter, *, overwrite: bool = False, append: bool = False,
               sharded: bool = False, index="true", level=None, backend: str = "",
               sort_order: Optional[Sequence[str]] = None) -> "TextWriteJob":
        """Plan a write to ``path``.  ``append`` adds shards to an existing ``sharded`` folder;
        a single file cannot be appended to (its index would have to be rebuilt)."""
        fs, local = filesystem(path)
        if append and not overwrite and fs.exists(local) and not sharded:
            raise ConfigError("a bgzipped file with its index cannot be appended to: write sharded "
                              "(a folder, to which append adds shards) or overwrite it", path)
        parts = stage_parts(path, overwrite, exists_ok=append and sharded)
        settings = WriteSettings(level=6 if level is None else check_level(level), backend=check_backend(backend or ""))
        order = None if sort_order is None else tuple(sort_order)
        return cls(path, parts, line_writer, settings, sharded, index_kind(index), order, append and not overwrite)

    def part_path(self, partition: int, attempt: int) -> str:
        return posixpath.join(self.parts_dir, f"part-{partition:05d}-{attempt}")

    def write_part(self, batches: Iterable[pa.RecordBatch], partition: int, attempt: int) -> TextPartSummary:
        """A task's work: its rows as lines in one part file (a whole file when sharded)."""
        rows: Iterator[pa.RecordBatch] = (batch for batch in batches if batch.num_rows)
        if self.sort_order is not None:
            rows = sorted_batches(rows, self.line_writer, self.sort_order)
        first = next(rows, None)
        path = self.part_path(partition, attempt)
        if first is None:
            return empty_summary(path, partition, attempt)
        samples = self.line_writer.samples_from(first)
        header = self.line_writer.header_text(samples).encode("utf-8") if self.sharded else None
        fs, local = filesystem(path)
        with fs.open(local, "wb") as out:
            writer = TextPartWriter(out, self.line_writer, self.settings, self.index_kind is not None,
                                    header=header, path=self.path, samples=samples)
            for number, batch in enumerate(chain([first], rows)):
                writer.write_batch(batch, number)
            return writer.finish_text(path, partition, attempt, eof=self.sharded)


def sorted_batches(batches: Iterable[pa.RecordBatch], line_writer: LineWriter,
                   contig_order: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The rows of ``batches`` in the order of :func:`contig_rank`, then begin (and end)."""
    batches = list(batches)
    if not batches:
        return iter(())
    table = pa.Table.from_batches(batches)
    contig = table.column(line_writer.contig_column)
    keyed = table.append_column(_RANK, contig_rank(contig, contig_order))
    keys = [(_RANK, "ascending"), (line_writer.contig_column, "ascending"), (line_writer.start_column, "ascending")]
    end = line_writer.end_column
    if end and end in table.column_names:
        keys.append((end, "ascending"))
    order = pc.sort_indices(keyed, sort_keys=keys)
    return iter(table.take(order).to_batches(max_chunksize=65536))


def contig_rank(contigs, contig_order: Sequence[str]) -> pa.Array:
    """Each contig's place in ``contig_order``; contigs it lacks all come after it."""
    rank = pc.index_in(contigs, value_set=pa.array(list(contig_order), pa.string()))
    return pc.fill_null(rank, len(contig_order))
