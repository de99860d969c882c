"""Tickets of a BAM: its header, then the index chunks of the regions, then the EOF block.

Only the references a request names are read from the index: through the ``.bai.json``
beside the BAI when there is one (a browser's index of the index), else through spans found
in one pass over the BAI and kept (:mod:`sparkbam_py.index.slices`); each slice read is
kept in an LRU.  A CSI is BGZF-compressed, so it is read whole, once per version.
"""
from __future__ import annotations

import threading
from typing import List

from cachetools import LRUCache

from ...bam.header import read_header
from ...bgzf.reader import BgzfReader
from ...errors import IndexFormatError
from ...index.bai import parse_bai_reference
from ...index.bai_json import read_bai_json
from ...index.bins import BAI_DEPTH, BAI_MIN_SHIFT, max_reference_length
from ...index.chunks import Chunk, chunks_for_reference, merge_chunks, unplaced_unmapped_start
from ...index.csi import read_index
from ...index.slices import last_placed_reference, reference_end, reference_spans
from ...pos import Pos
from .folders import ServedFile
from .pieces import HEADER, virtual_span
from .plan import Plan, bgzf_tail, channel_of, reference_id, region_bounds
from .request import UNPLACED, TicketRequest

REFERENCE_CACHE_SIZE = 256


class BamSource:
    def __init__(self, served: ServedFile):
        self.served = served
        with channel_of(served) as channel:
            self.header = read_header(BgzfReader(channel))
            self.data_end, self.eof = bgzf_tail(channel)
        self.names = {name: i for i, name in enumerate(self.header.reference_names)}
        self.csi = read_index(served.index.url) if served.index_kind == "csi" else None
        self.spans = None if self.csi else self._spans()
        self.min_shift = self.csi.min_shift if self.csi else BAI_MIN_SHIFT
        self.depth = self.csi.depth if self.csi else BAI_DEPTH
        self._references: LRUCache = LRUCache(maxsize=REFERENCE_CACHE_SIZE)
        self._lock = threading.Lock()

    def _spans(self):
        if self.served.bai_json is not None:
            return read_bai_json(self.served.bai_json.url).chunks
        with channel_of(self.served, "index") as channel:
            return reference_spans(channel.read_fully(0, channel.size, ".bai"), self.served.index.url)

    def reference(self, ref_id: int):
        """One reference's index: a CSI's, or the BAI's slice read alone and kept."""
        if self.csi is not None:
            return self.csi.references[ref_id] if ref_id < self.csi.n_refs else None
        if ref_id >= len(self.spans):
            return None
        with self._lock:
            found = self._references.get(ref_id)
        if found is None:
            start, end = self.spans[ref_id]
            with channel_of(self.served, "index") as channel:
                data = channel.read_through(start, end - start)  # exactly the slice: no page cache
            if len(data) != end - start:
                raise IndexFormatError(f"reference {ref_id}'s slice [{start}, {end}) runs past the end",
                                       self.served.index.url, len(data) + start)
            found = parse_bai_reference(data, start, self.served.index.url)
            with self._lock:
                self._references[ref_id] = found
        return found

    def unplaced_start(self) -> Pos:
        """Where the unplaced unmapped reads begin: after the last placed record (or the header)."""
        if self.csi is not None:
            start = unplaced_unmapped_start(self.csi)
        else:
            last = last_placed_reference(self.spans)
            start = reference_end(self.reference(last)) if last is not None else None
        return max(start, self.header.end) if start is not None else self.header.end

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
        no_end = max_reference_length(self.min_shift, self.depth)
        found: List[Chunk] = []
        for region in request.regions:
            if region.name == UNPLACED:
                found.append(Chunk(self.unplaced_start(), Pos(self.data_end, 0)))
                continue
            ref = self.reference(reference_id(self.names, region, request.id))
            start, end = region_bounds(region, no_end)
            if ref is not None and end > start:
                found += chunks_for_reference(ref, start, end, self.min_shift, self.depth)
        return merge_chunks(found)
