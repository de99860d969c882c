"""A BAM's index as an interval query needs it: one reference at a time.

Two ways in, same answers:

* :class:`WholeIndex`: the whole ``.bai`` or ``.csi``, read in one request and parsed.
* :class:`BaiJsonIndex`: bai-indexer's ``.bai.json`` (the index of the index) and, per
  queried reference, one ranged read of exactly that reference's bytes of the ``.bai``.
  For a deep BAM on remote storage this fetches a few KB instead of tens of MB.

:func:`open_index` finds whichever the BAM has, locally or beside a URL, preferring the
``.bai.json`` route.  Both report what they fetched (``requests``, ``bytes_fetched``).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Union

from ..channel import CachingChannel, open_channel
from ..errors import ConfigError, MissingInputError
from ..index.bai import ReferenceIndex
from ..index.bai_json import BaiJson, read_bai_json, read_reference_index
from ..index.bins import BAI_DEPTH, BAI_MIN_SHIFT
from ..index.chunks import unplaced_unmapped_start
from ..index.csi import read_index
from ..pos import Pos

# SAMv1 §5.2: a reference without data is just n_bin = 0 and n_intv = 0 (two int32).
EMPTY_BAI_REFERENCE_SIZE = 8


class IndexAccess:
    """What the planner asks of an index.  Subclasses fill in :meth:`reference`."""

    kind = "BAI"
    min_shift = BAI_MIN_SHIFT
    depth = BAI_DEPTH
    n_refs = 0
    path: Optional[str] = None

    def reference(self, ref_id: int) -> Optional[ReferenceIndex]:
        """The index of reference ``ref_id``; None when the index does not cover it."""
        raise NotImplementedError

    def unplaced_start(self) -> Optional[Pos]:
        """Where the unplaced unmapped reads ("*") begin; None: at the first record."""
        raise NotImplementedError

    def fetched(self) -> Dict[str, int]:
        """``{"requests": n, "bytes_fetched": b}``: what reading the index has cost so far."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "IndexAccess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _channel_cost(*channels: Optional[CachingChannel]) -> Dict[str, int]:
    live = [channel for channel in channels if channel is not None]
    return {
        "requests": sum(channel.stats.requests for channel in live),
        "bytes_fetched": sum(channel.stats.bytes_fetched for channel in live),
    }


class WholeIndex(IndexAccess):
    """A BAI or CSI read whole (one request for its bytes) and parsed once."""

    def __init__(self, index: Union[str, CachingChannel]):
        # No page cache: the file is read once, in one request.
        with _as_channel(index) as channel:
            self.path = channel.path
            self.index = read_index(channel)
            self._cost = _channel_cost(channel)
        self.kind, self.min_shift, self.depth = self.index.kind, self.index.min_shift, self.index.depth
        self.n_refs = self.index.n_refs

    def reference(self, ref_id: int) -> Optional[ReferenceIndex]:
        return self.index.references[ref_id] if 0 <= ref_id < self.n_refs else None

    def unplaced_start(self) -> Optional[Pos]:
        return unplaced_unmapped_start(self.index)

    def fetched(self) -> Dict[str, int]:
        return dict(self._cost)


class BaiJsonIndex(IndexAccess):
    """A ``.bai.json`` plus lazily fetched per-reference slices of its ``.bai``."""

    def __init__(self, bai_paths: Sequence[str], bai_json: Union[str, CachingChannel, BaiJson]):
        if isinstance(bai_json, BaiJson):  # already at hand (e.g. found in one pass over the .bai)
            self.bai_json_path, self.bai_json = None, bai_json
            self._json_cost = {"requests": 0, "bytes_fetched": 0}
        else:
            with _as_channel(bai_json) as channel:
                self.bai_json_path = channel.path
                self.bai_json = read_bai_json(channel)
                self._json_cost = _channel_cost(channel)
        # cache_bytes=0: each slice is one exact ranged read, not rounded up to 64 KiB pages.
        found = (probe(path) for path in bai_paths)
        self.channel = next((channel for channel in found if channel is not None), None)
        if self.channel is None:
            raise MissingInputError(f"the .bai of this .bai.json is missing (looked for {', '.join(bai_paths)})",
                                    self.bai_json_path)
        self.path = self.channel.path
        self.n_refs = len(self.bai_json.chunks)
        self._references: Dict[int, ReferenceIndex] = {}

    def reference(self, ref_id: int) -> Optional[ReferenceIndex]:
        if not 0 <= ref_id < self.n_refs:
            return None
        if ref_id not in self._references:
            self._references[ref_id] = read_reference_index(self.channel, self.bai_json, ref_id)
        return self._references[ref_id]

    def unplaced_start(self) -> Optional[Pos]:
        """The end of the last reference, in header order, that has reads.

        Only that reference's slice is fetched; the ``.bai.json`` ranges tell which
        references have data (SAMv1 §5.2: an empty one is exactly 8 bytes).  In a BAM sorted
        in header order its end is where the unplaced reads begin.  A file whose references
        come in another order (indexable too) makes it an earlier record start: the reader
        then walks some placed reads first and keeps only the unplaced ones, so the answer
        is the same, only read from further back.
        """
        for ref_id in range(self.n_refs - 1, -1, -1):
            start, end = self.bai_json.chunks[ref_id]
            if end - start > EMPTY_BAI_REFERENCE_SIZE:
                return _last_record_end(self.reference(ref_id))
        return None

    def fetched(self) -> Dict[str, int]:
        cost = _channel_cost(self.channel)
        return {key: cost[key] + self._json_cost[key] for key in cost}

    def close(self) -> None:
        self.channel.close()


def _last_record_end(reference: ReferenceIndex) -> Optional[Pos]:
    """The pseudo-bin's ``ref_end``, or the largest chunk end when there is no pseudo-bin
    (the same rule as :func:`~sparkbam_py.index.chunks.unplaced_unmapped_start`)."""
    if reference.metadata is not None:
        return reference.metadata.ref_end
    ends = [chunk.end for bin_ in reference.bins.values() for chunk in bin_.chunks]
    return max(ends) if ends else None


# -- finding an index ----------------------------------------------------------------------


def index_candidates(bam_path: str) -> List[str]:
    """Where an index of ``bam_path`` may be, in htslib's order (``idx_check_local``)."""
    stem, _ = os.path.splitext(bam_path)
    return [bam_path + ".csi", stem + ".csi", bam_path + ".bai", stem + ".bai"]


def _as_channel(source: Union[str, CachingChannel]) -> CachingChannel:
    """An index file's channel: without a page cache, as an index is read once."""
    return source if isinstance(source, CachingChannel) else open_channel(source, cache_bytes=0)


def probe(path_or_url: str) -> Optional[CachingChannel]:
    """An open channel if the file or object exists (its size asked: a HEAD for URLs), else None.

    The caller reads the index through it, so finding an index costs no extra request.
    """
    try:
        channel = open_channel(path_or_url, cache_bytes=0)
    except MissingInputError:
        return None
    try:
        channel.size
    except MissingInputError:
        channel.close()
        return None
    return channel


def open_index(bam_path: str, index_path: Optional[str] = None, use_bai_json: bool = True) -> IndexAccess:
    """The index of ``bam_path`` (a local path or URL).

    ``index_path`` names it explicitly (a ``.bai``, ``.csi`` or ``.bai.json``; for the last,
    the ``.bai`` is the JSON path without ``.json``).  Otherwise a ``<bam>.bai.json`` is
    preferred when ``use_bai_json`` (its ``.bai`` must then exist), then htslib's order.  No
    index at all is a :class:`ConfigError` saying where it looked and how to make one.
    """
    bam_path = os.fspath(bam_path)
    if index_path is not None:
        index_path = os.fspath(index_path)
        if index_path.endswith(".json"):
            return BaiJsonIndex([index_path[: -len(".json")]], index_path)
        return WholeIndex(index_path)
    if use_bai_json:
        channel = probe(bam_path + ".bai.json")
        if channel is not None:  # bai-indexer names x.bam.bai's JSON x.bam.bai.json; x.bai's too
            return BaiJsonIndex([bam_path + ".bai", os.path.splitext(bam_path)[0] + ".bai"], channel)
    for candidate in index_candidates(bam_path):
        channel = probe(candidate)
        if channel is not None:
            return WholeIndex(channel)
    looked = ", ".join(index_candidates(bam_path))
    raise ConfigError(
        f"interval queries need a BAM index; none found (looked for {looked}). "
        "Create one with `samtools index` (or `samtools index -c` for a CSI)",
        bam_path,
    )
