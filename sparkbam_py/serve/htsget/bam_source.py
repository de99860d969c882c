"""Tickets of a BAM: its header, then the index chunks of the regions, then the EOF block.

The index is read through :mod:`sparkbam_py.intervals.index_access`, one reference at a time:
through the ``.bai.json`` beside the BAI when there is one (a browser's index of the index),
else through slice offsets found in one pass over the BAI (:mod:`sparkbam_py.index.slices`)
and kept, so a server holds a pair of numbers per reference, not a parsed index.  A CSI is
BGZF-compressed, so it is read whole, once per version.
"""
from __future__ import annotations

import threading
from typing import List

from ...bam.header import read_header
from ...bgzf.reader import BgzfReader
from ...index.bai_json import BaiJson
from ...index.bins import max_reference_length
from ...index.chunks import Chunk, chunks_for_reference, merge_chunks
from ...index.slices import reference_spans
from ...intervals.index_access import BaiJsonIndex, IndexAccess, WholeIndex
from ...pos import Pos
from .folders import ServedFile
from .pieces import HEADER, virtual_span
from .plan import Plan, bgzf_tail, channel_of, reference_id, region_bounds
from .request import UNPLACED, TicketRequest


def open_bam_index(served: ServedFile) -> IndexAccess:
    if served.index_kind == "csi":
        return WholeIndex(served.index.url)
    if served.bai_json is not None:
        return BaiJsonIndex([served.index.url], served.bai_json.url)
    with channel_of(served, "index") as channel:
        spans = reference_spans(channel.read_fully(0, channel.size, ".bai"), served.index.url)
    return BaiJsonIndex([served.index.url], BaiJson(spans, 0))


class BamSource:
    def __init__(self, served: ServedFile):
        self.served = served
        with channel_of(served) as channel:
            self.header = read_header(BgzfReader(channel))
            self.data_end, self.eof = bgzf_tail(channel)
        self.names = {name: i for i, name in enumerate(self.header.reference_names)}
        self.index = open_bam_index(served)
        self._lock = threading.Lock()  # one index channel, and its slice cache, for every thread

    def plan(self, request: TicketRequest) -> Plan:
        with channel_of(self.served) as channel:
            reader = BgzfReader(channel)
            header = virtual_span(reader, Pos(0, 0), self.header.end, HEADER)
            if request.header_only:
                return Plan(header, [], self.eof)
            stop = Pos(self.data_end, 0)
            chunks = [Chunk(self.header.end, stop)] if request.regions is None else self._chunks(request)
            body = [piece for chunk in chunks for piece in virtual_span(reader, chunk.start, min(chunk.end, stop))]
        return Plan(header, body, self.eof)

    def _chunks(self, request: TicketRequest) -> List[Chunk]:
        index = self.index
        no_end = max_reference_length(index.min_shift, index.depth)
        found: List[Chunk] = []
        for region in request.regions:
            if region.name == UNPLACED:
                with self._lock:
                    start = index.unplaced_start()
                found.append(Chunk(max(start, self.header.end) if start else self.header.end, Pos(self.data_end, 0)))
                continue
            ref_id = reference_id(self.names, region, request.id)
            with self._lock:
                ref = index.reference(ref_id)
            start, end = region_bounds(region, no_end)
            if ref is not None and end > start:
                found += chunks_for_reference(ref, start, end, index.min_shift, index.depth)
        return merge_chunks(found)
