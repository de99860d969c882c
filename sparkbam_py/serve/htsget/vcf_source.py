"""Tickets of a bgzipped VCF: header lines, the tabix (``.tbi``/``.csi``) chunks of the regions,
and the EOF block; partial blocks at either end of a span go inline (see :mod:`.pieces`).

The header ends where the first line not starting with ``#`` begins (VCFv4.3 §1.4); that
virtual offset is found by inflating blocks from the start, once per file version.
"""
from __future__ import annotations

import re
from typing import List, Tuple

from ...bgzf.reader import BgzfReader
from ...errors import CorruptDataError
from ...index.bins import max_reference_length
from ...index.chunks import Chunk, chunks_for_region, merge_chunks
from ...index.tabix import read_tabix
from ...pos import Pos
from .folders import ServedFile
from .pieces import HEADER, virtual_span
from .plan import Plan, bgzf_tail, channel_of, reference_id, region_bounds
from .request import TicketRequest

META = ord("#")
# A header this long is not a header (a file of comment lines alone): refuse, do not scan on.
MAX_HEADER_BYTES = 256 << 20
_CONTIG_ID = re.compile(rb"^##contig=<ID=([^,>]+)", re.MULTILINE)


def header_end(reader: BgzfReader, data_end: int) -> Tuple[Pos, bytes]:
    """The virtual offset of the first record line (or of the data's end), and the header text."""
    text: List[bytes] = []
    at, line_start, size = 0, True, 0
    while at < data_end:
        block = reader.block(at)
        data = block.data
        starts = ([0] if line_start else []) + [m.end() for m in re.finditer(b"\n", data)]
        for start in starts:
            if start < len(data) and data[start] != META:
                text.append(data[:start])
                return Pos(at, start), b"".join(text)
        if data:
            line_start = data.endswith(b"\n")
        text.append(data)
        size += len(data)
        if size > MAX_HEADER_BYTES:
            raise CorruptDataError(f"no record line in the first {MAX_HEADER_BYTES} bytes", reader.path, at)
        at = block.end
    return Pos(data_end, 0), b"".join(text)


class VcfSource:
    def __init__(self, served: ServedFile):
        self.served = served
        self.tabix = read_tabix(served.index.url)
        with channel_of(served) as channel:
            self.data_end, self.eof = bgzf_tail(channel)
            self.header_end, text = header_end(BgzfReader(channel), self.data_end)
        self.names = {name: i for i, name in enumerate(self.tabix.names)}
        # References the header declares but no record uses are real, and empty: not NotFound.
        self.declared = {m.group(1).decode("utf-8", "replace") for m in _CONTIG_ID.finditer(text)}

    def plan(self, request: TicketRequest) -> Plan:
        with channel_of(self.served) as channel:
            reader = BgzfReader(channel)
            header = virtual_span(reader, Pos(0, 0), self.header_end, HEADER)
            if request.header_only:
                return Plan(header, [], self.eof)
            stop = Pos(self.data_end, 0)
            chunks = [Chunk(self.header_end, stop)] if request.regions is None else self._chunks(request)
            body = [piece for chunk in chunks for piece in virtual_span(reader, chunk.start, min(chunk.end, stop))]
        return Plan(header, body, self.eof)

    def _chunks(self, request: TicketRequest) -> List[Chunk]:
        index = self.tabix.index
        no_end = max_reference_length(index.min_shift, index.depth)
        found: List[Chunk] = []
        for region in request.regions:
            if region.name in self.declared and region.name not in self.names:
                continue
            ref_id = reference_id(self.names, region, request.id)
            start, end = region_bounds(region, no_end)
            found += chunks_for_region(index, ref_id, start, end)
        return merge_chunks(found)
