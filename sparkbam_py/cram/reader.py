"""One CRAM byte range inside a task: its first container, its containers, the boundary
check against its neighbour, the count, and the decode through htslib.

Ownership: a range ``[start, end)`` owns the containers whose header starts in it.  The walk
follows container lengths from the first one until a header starts at or past ``end`` (or
the end-of-file container): that landing place must be exactly what the next range's own
search finds, else :class:`SplitVerificationError`.  With exact splits (from the ``.crai``)
there is no search: the chain from the split's first container must land on the next
split's first container.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
from cachetools import LRUCache

from ..channel import open_channel
from ..config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE
from ..errors import CorruptDataError, IndexFormatError, InputIOError, SplitVerificationError
from .container import ContainerHeader, read_container_header
from .decode import batch_from_lines, collect_lines
from .header import CramHeader, read_cram_header
from .overlap import OVERLAP_COLUMNS, overlap_mask
from .reference import CramReferenceError, local_reference, reference_problem
from .search import CramSearchConfig, find_container_start, iter_containers, landing_after
from .stream import ContainerStream

BATCH_RECORDS = 8192
HEADERS_PER_PROCESS = 16


@dataclass(frozen=True)
class CramRange:
    """Compressed bytes ``[start, end)`` of a CRAM file: one partition."""

    start: int
    end: int


@dataclass(frozen=True)
class CramTask:
    """One byte range of one CRAM file and what the executor needs to read it.

    ``exact`` is set when the ``.crai`` gave the split: ``(first container, next split's
    first container or None at the end)``; nothing is searched.
    """

    path: str
    file_size: int
    range: CramRange
    header: Optional[CramHeader] = None
    search: CramSearchConfig = CramSearchConfig()
    reference: Optional[str] = None
    verify: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    exact: Optional[Tuple[int, Optional[int]]] = None
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


class CramSplitReader:
    """Reads one :class:`CramTask`; open it with ``with`` (it owns the task's channel)."""

    def __init__(self, task: CramTask):
        self.task = task
        self.channel = open_channel(task.path, page_size=task.page_size, cache_bytes=task.cache_bytes)
        try:
            if self.channel.size != task.file_size:
                raise InputIOError(f"the file is {self.channel.size} bytes now but was {task.file_size} when the "
                                   "splits were computed; it changed while being read", task.path)
            self.header = _header_for(task, self.channel)
        except BaseException:
            self.channel.close()
            raise
        self._containers: Optional[Tuple[List[ContainerHeader], Optional[int]]] = None

    def _read_header(self, offset: int, what: str) -> ContainerHeader:
        return read_container_header(self.channel, offset, self.header.definition,
                                     len(self.header.reference_names), what)

    def first_container(self) -> Optional[ContainerHeader]:
        """The range's first owned container; None when it owns none."""
        task = self.task
        if task.exact is not None:
            try:
                found = self._read_header(task.exact[0], "container named by the .crai")
            except CorruptDataError as error:
                raise IndexFormatError(f"the .crai names a container at byte {task.exact[0]} that is not one: "
                                       f"{error.detail}", task.path, task.exact[0]) from None
            return None if found.is_eof else found
        return find_container_start(self.channel, self.header, task.range.start, task.search, stop=task.range.end)

    def containers(self) -> List[ContainerHeader]:
        """The owned containers in file order, after checking the boundary with the next range."""
        if self._containers is None:
            first = self.first_container()
            end = self.task.exact[1] if self.task.exact is not None else self.task.range.end
            owned = [] if first is None else list(iter_containers(self.channel, first, self.header,
                                                                   self.channel.size if end is None else end))
            landing = landing_after(self.channel, owned[-1], self.header) if owned else None
            self._containers = (owned, landing)
            if self.task.verify:
                self._verify(first, landing)
        return self._containers[0]

    def _verify(self, first: Optional[ContainerHeader], landing: Optional[int]) -> None:
        task = self.task
        if task.exact is not None:
            if first is not None and landing != task.exact[1]:
                raise SplitVerificationError(
                    f"the containers from byte {task.exact[0]} chain on to {_where(landing)}, not to the next "
                    f"split's first container at {_where(task.exact[1])}: the .crai does not describe this file",
                    task.path, task.exact[0])
            return
        if first is None:
            return
        following = find_container_start(self.channel, self.header, task.range.end, task.search)
        expected = None if following is None else following.offset
        if expected != landing:
            raise SplitVerificationError(
                f"the containers of bytes {task.range.start}-{task.range.end} chain on to {_where(landing)}, but "
                f"the next range's container search finds {_where(expected)}: containers would be lost or "
                "read twice", task.path, landing if landing is not None else task.range.end)

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
        decoded = 0
        with ContainerStream(self.channel, self.header, owned[0].offset, owned[-1].end) as stream:
            cram = _open_pysam(stream.reader_file(), reference)
            try:
                while True:
                    try:
                        lines, ends = collect_lines(cram, batch_records)
                    except (OSError, ValueError) as error:
                        stream.check()
                        raise self._decode_error(owned, decoded, reference, error) from None
                    if not lines:
                        break
                    decoded += len(lines)
                    yield batch_from_lines(lines, ends, columns)
            finally:
                cram.close()
            stream.check()
        if decoded != expected:
            raise CorruptDataError(f"htslib decoded {decoded} records from the containers at bytes "
                                   f"{owned[0].offset}-{owned[-1].end}, whose headers hold {expected}",
                                   self.task.path, owned[0].offset)

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


def _where(offset: Optional[int]) -> str:
    return "the end of the data" if offset is None else f"the container at byte {offset}"


def _open_pysam(stream_file, reference: Optional[str]):
    import pysam

    # htslib looks for an index of the (nameless) stream and says so on stderr; nothing is wrong.
    previous = pysam.set_verbosity(0)
    try:
        return pysam.AlignmentFile(stream_file, "rc", reference_filename=reference, check_sq=False)
    finally:
        pysam.set_verbosity(previous)


__all__ = ["CramRange", "CramSplitReader", "CramTask", "CramReferenceError"]
