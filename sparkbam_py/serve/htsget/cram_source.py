"""Tickets of a CRAM: containers are byte-aligned, so every piece is a range of the file.

The header is everything before the first data container (file definition and SAM header
container); the body is the runs of containers the ``.crai`` says hold the regions
(multi-reference containers always); the file's EOF container ends every ticket (CRAMv3 §9).
"""
from __future__ import annotations

from typing import List, Tuple

from ...cram.container import EOF_CONTAINER
from ...cram.header import read_cram_header
from ...index.crai import containers_for_regions, read_crai
from ...index.regions import Region as IndexRegion
from .folders import ServedFile
from .pieces import HEADER, Piece, byte_span, inline
from .plan import Plan, channel_of, reference_id, region_bounds
from .request import UNPLACED, TicketRequest

# The largest coordinate a CRAM slice can hold (ITF8 alignment start and span are int32).
NO_END = (1 << 31) - 1


class CramSource:
    def __init__(self, served: ServedFile):
        self.served = served
        with channel_of(served) as channel:
            self.header = read_cram_header(channel)
            self.data_end, self.eof = self._tail(channel)
        self.names = {name: i for i, name in enumerate(self.header.reference_names)}
        self.crai = read_crai(served.index.url)

    def _tail(self, channel) -> Tuple[int, List[Piece]]:
        definition = self.header.definition
        marker = EOF_CONTAINER.get(definition.major)
        size = channel.size
        if marker is None or (definition.major, definition.minor) < (2, 1):
            return size, []  # CRAM 2.0 has no EOF container
        if size >= len(marker) and channel.read_at(size - len(marker), len(marker)) == marker:
            return size - len(marker), byte_span(size - len(marker), size)
        return size, [inline(marker)]

    def plan(self, request: TicketRequest) -> Plan:
        first = min(self.header.first_container, self.data_end)
        header = byte_span(0, first, HEADER)
        if request.header_only:
            return Plan(header, [], self.eof)
        if request.regions is None:
            return Plan(header, byte_span(first, self.data_end), self.eof)
        regions = []
        for region in request.regions:
            if region.name == UNPLACED:
                regions.append(IndexRegion(-1, UNPLACED, 0, 0))
                continue
            ref_id = reference_id(self.names, region, request.id)
            start, end = region_bounds(region, NO_END)
            if end > start:
                regions.append(IndexRegion(ref_id, region.name, start, end))
        runs = containers_for_regions(self.crai, regions) if regions else []
        body = [piece for start, after in runs
                for piece in byte_span(start, min(after, self.data_end) if after is not None else self.data_end)]
        return Plan(header, body, self.eof)
