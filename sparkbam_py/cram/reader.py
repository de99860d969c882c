"""One CRAM byte range inside a task, on the split core (``sparkbam_py.split``): its first
container, its containers, the boundary check against its neighbour, the count, the decode.

Containers are the units, named ``Pos(container offset, 0)``.  A range ``[start, end)`` owns
the containers whose header starts in it.  The walk follows container lengths from the first
one until a header starts at or past ``end`` (or the end-of-file container): that landing
place must be exactly what the next range's own search finds (``verify_boundary``), else
:class:`SplitVerificationError`.  With exact splits (from the ``.crai``) nothing is searched;
the chain from the split's first container must land on the split's end (``verify_exact_end``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
from cachetools import LRUCache

from ..config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE
from ..bam.decode import decode_records
from ..errors import CorruptDataError, IndexFormatError, SparkBamError
from ..kernels import note_input, use_compiled
from ..pos import Pos
from ..split import RangeReader, RangeTask, Split, Vocabulary, open_task_channel
from .container import ContainerHeader, read_container_header
from .decode import batch_from_lines, collect_lines
from .header import CramHeader, read_cram_header
from .htslib import HtsCramFile
from .overlap import OVERLAP_COLUMNS, overlap_mask
from .records import iter_record_runs
from .reference import CramReferenceError, local_reference, reference_problem
from .search import CramSearchConfig, container_at, find_container_start, iter_containers
from .stream import ContainerStream

BATCH_RECORDS = 8192
HEADERS_PER_PROCESS = 16


@dataclass(frozen=True)
class CramTask(RangeTask):
    """One byte range of one CRAM file and what the executor needs to read it.

    ``exact`` is set when the ``.crai`` gave the split (``Split(Pos(first container, 0),
    Pos(next split's first container or the end, 0))``): nothing is searched.
    """

    header: Optional[CramHeader] = None
    search: CramSearchConfig = CramSearchConfig()
    reference: Optional[str] = None
    verify: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    exact: Optional[Split] = None
    # Region reads (through the .crai): keep only records overlapping one (ref_id, beg, end).
    regions: Optional[Tuple[Tuple[int, int, int], ...]] = None


_headers: LRUCache = LRUCache(maxsize=HEADERS_PER_PROCESS)


def _header_for(task: CramTask, channel) -> CramHeader:
    if task.header is not None:
        return task.header
    key = (task.path, task.file_size)
    if key not in _headers:
        _headers[key] = read_cram_header(channel).without_text()
    return _headers[key]


class CramSplitReader(RangeReader):
    """Reads one :class:`CramTask`; open it with ``with`` (it owns the task's channel)."""

    words = Vocabulary("container", "containers", "reads")
    exact_index_name = "the CRAM index (.crai)"

    def __init__(self, task: CramTask):
        super().__init__(task)
        self.channel = open_task_channel(task)
        try:
            self.header = _header_for(task, self.channel)
        except BaseException:
            self.channel.close()
            raise
        self._owned: Optional[List[ContainerHeader]] = None
        self._names: Optional[pa.Array] = None  # the reference names as Arrow, made once

    # -- the split core's two questions -----------------------------------------------------

    def find_start(self, offset: int, stop: Optional[Pos] = None) -> Optional[Pos]:
        found = find_container_start(self.channel, self.header, offset, self.task.search,
                                     stop=None if stop is None else stop.block_pos)
        return None if found is None else Pos(found.offset, 0)

    def place(self, pos: Pos) -> Optional[Pos]:
        """``pos`` itself where a data container starts; None at the end-of-file container or the end."""
        if pos.block_pos >= self.channel.size:
            return None
        found = container_at(self.channel, pos.block_pos, self.header)
        return None if found is None or found.is_eof else pos

    # -- the walk ---------------------------------------------------------------------------

    def _read_header(self, offset: int) -> ContainerHeader:
        return read_container_header(self.channel, offset, self.header.definition, len(self.header.reference_names))

    def containers(self) -> List[ContainerHeader]:
        """The owned containers in file order, after checking the boundary with the next range."""
        if self._owned is not None:
            return self._owned
        task, start = self.task, self.start
        if task.exact is not None and self.place(start) is None and start.block_pos < self.channel.size:
            raise IndexFormatError(f"the .crai names a container at byte {start.block_pos} that is not one",
                                   task.path, start.block_pos)
        end = task.exact.end.block_pos if task.exact is not None else task.range.end
        first = None if start is None else self._read_header(start.block_pos)
        owned = [] if first is None or first.is_eof else list(iter_containers(self.channel, first, self.header, end))
        self._owned = owned
        if task.verify and owned:
            landing = Pos(owned[-1].end, 0)
            if task.exact is not None:
                self.verify_exact_end(task.exact, landing)
            else:
                self.verify_boundary(landing)
        return owned

    def count(self) -> int:
        """Records owned: the sum of the owned container headers' record counts (nothing decoded)."""
        return sum(container.records for container in self.containers())

    def iter_batches(self, columns: Sequence[str], batch_records: int = BATCH_RECORDS) -> Iterator[pa.RecordBatch]:
        """The owned records (only those overlapping the task's regions, if it has any),
        decoded by htslib, as Arrow batches of ``bam_schema(columns)``."""
        regions = self.task.regions
        if regions is None:
            yield from self._decode(columns, batch_records)
            return
        wanted = tuple(columns) + tuple(name for name in OVERLAP_COLUMNS if name not in columns)
        for batch in self._decode(wanted, batch_records):
            kept = batch.filter(overlap_mask(batch, regions, self.header.reference_names))
            yield kept.select(list(columns))

    def _decode(self, columns: Sequence[str], batch_records: int) -> Iterator[pa.RecordBatch]:
        owned = self.containers()
        if not owned:
            return
        expected = sum(container.records for container in owned)
        reference = local_reference(self.task.reference)
        note_input(owned[-1].end - owned[0].offset)
        batches_of = self._compiled_batches if use_compiled() else self._pysam_batches
        decoded = 0
        with ContainerStream(self.channel, self.header, owned[0].offset, owned[-1].end) as stream:
            batches = batches_of(stream, reference, columns, batch_records)
            try:
                for batch in batches:
                    decoded += batch.num_rows
                    yield batch
            except SparkBamError:
                raise
            except (OSError, ValueError) as error:  # htslib's failure, as pysam or sam_read1 reports it
                batches.close()  # htslib lets go of the stream before its writer is stopped
                stream.check()
                raise self._decode_error(owned, decoded, reference, error) from None
            finally:
                batches.close()
            stream.check()
        if decoded != expected:
            raise CorruptDataError(f"htslib decoded {decoded} records from the containers at bytes "
                                   f"{owned[0].offset}-{owned[-1].end}, whose headers hold {expected}",
                                   self.task.path, owned[0].offset)

    def _compiled_batches(self, stream: ContainerStream, reference: Optional[str], columns: Sequence[str],
                          batch_records: int) -> Iterator[pa.RecordBatch]:
        """htslib's records in bulk through the BAM decoder (:mod:`.records`): batches of at
        most ``batch_records`` records and about a megabyte, as BAM's are."""
        if self._names is None:
            self._names = pa.array(self.header.reference_names, pa.string())
        path = self.task.path
        with HtsCramFile(stream.reader_file().fileno(), path, reference, required_fields(columns), path) as cram:
            for data, offsets in iter_record_runs(cram, path, batch_records):
                yield decode_records(data, offsets, self._names, columns, path=path)

    def _pysam_batches(self, stream: ContainerStream, reference: Optional[str], columns: Sequence[str],
                       batch_records: int) -> Iterator[pa.RecordBatch]:
        """One SAM line per record through pysam (:mod:`.decode`): the path without numba."""
        cram = _open_pysam(stream.reader_file(), reference, required_fields(columns))
        try:
            # fetch(until_eof=True): plain iteration refuses CRAMs without @SQ lines.
            records = cram.fetch(until_eof=True)
            with_ends = "reference_end" in columns
            while True:
                lines, ends = collect_lines(records, batch_records, with_ends)
                if not lines:
                    return
                yield batch_from_lines(lines, ends, columns)
        finally:
            cram.close()

    def _decode_error(self, owned: List[ContainerHeader], decoded: int, reference: Optional[str],
                      error: Exception) -> Exception:
        """A typed error for htslib's failure, naming the container (and its reference) it was in."""
        failed, seen = owned[-1], 0
        for container in owned:
            seen += container.records
            if decoded < seen:
                failed = container
                break
        names = self.header.reference_names
        if failed.reference_id >= 0 or failed.reference_id == -2:
            contig = names[failed.reference_id] if failed.reference_id >= 0 else None
            return reference_problem(self.task.path, failed.offset, contig, self.header.md5s.get(contig),
                                     reference, f"htslib: {error}")
        return CorruptDataError(f"htslib could not decode the container at byte {failed.offset}: {error}",
                                self.task.path, failed.offset)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "CramSplitReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# htslib's CRAM_OPT_REQUIRED_FIELDS bits (htslib/sam.h SAM_QNAME ... SAM_RGAUX): what the
# decoder must produce.  The fixed fields and CIGAR are always decoded (reference_end needs
# the CIGAR); sequence, qualities and tags only when a column needs them, which roughly
# halves htslib's work for narrow selections.
SAM_FIXED_FIELDS = 0x1FF  # QNAME FLAG RNAME POS MAPQ CIGAR RNEXT PNEXT TLEN
SAM_SEQ, SAM_QUAL, SAM_AUX, SAM_RGAUX = 0x200, 0x400, 0x800, 0x1000


def required_fields(columns: Sequence[str]) -> int:
    """The htslib fields the ``columns`` need (text qualities and MD/NM tags need the sequence)."""
    wanted = SAM_FIXED_FIELDS
    if {"query_sequence", "query_qualities", "tags"} & set(columns):
        wanted |= SAM_SEQ
    if "query_qualities" in columns:
        wanted |= SAM_QUAL
    if "tags" in columns:
        wanted |= SAM_AUX | SAM_RGAUX
    return wanted


def _open_pysam(stream_file, reference: Optional[str], fields: int):
    import pysam

    # htslib looks for an index of the (nameless) stream and says so on stderr; nothing is wrong.
    previous = pysam.set_verbosity(0)
    try:
        return pysam.AlignmentFile(stream_file, "rc", reference_filename=reference, check_sq=False,
                                   format_options=[f"required_fields={fields:#x}".encode()])
    finally:
        pysam.set_verbosity(previous)


__all__ = ["CramSplitReader", "CramTask", "CramReferenceError"]
