"""Driver side: a CRAM file's tasks, from byte ranges (searched on the executors) or from
its ``.crai`` (exact, nothing searched), and region reads through the ``.crai``.

Byte ranges are the BAM path's (``compute_byte_ranges``: Hadoop-style, the last range takes a
remainder up to 10%), so a CRAM and a BAM of one size split alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..channel import open_channel
from ..config import DEFAULT_SPLIT_SIZE
from ..errors import IndexFormatError
from ..index.crai import CRAI_SUFFIX, CraiIndex, containers_for_regions, find_crai
from ..index.regions import parse_regions
from ..pos import UOFFSET_BITS, Pos
from ..split import Split, compute_byte_ranges, exact_byte_range, splits_from_offsets
from .container import read_container_header
from .header import CramHeader, read_cram_header
from .reader import CramTask
from .search import CramSearchConfig

CRAM_MAGIC = b"CRAM"
# Reference dictionaries bigger than this are not shipped with every task (see splits.py).
MAX_SHIPPED_REFERENCES = 4096


def is_cram(path: str) -> bool:
    """Whether the file at ``path`` starts with the CRAM magic (CRAMv3 §6)."""
    with open_channel(path) as channel:
        return channel.read_at(0, len(CRAM_MAGIC)) == CRAM_MAGIC


@dataclass(frozen=True)
class CramReadOptions:
    """How CRAM files are cut, searched, verified and decoded; the same for every file of a load."""

    split_size: int = DEFAULT_SPLIT_SIZE
    search: CramSearchConfig = CramSearchConfig()
    reference: Optional[str] = None
    verify: bool = True
    use_index: bool = True


def _shipped(header: CramHeader) -> Optional[CramHeader]:
    return header.without_text() if len(header.reference_names) <= MAX_SHIPPED_REFERENCES else None


def plan_cram_file(path: str, options: CramReadOptions = CramReadOptions()) -> Tuple[CramHeader, List[CramTask]]:
    """The header and tasks of one CRAM: exact splits from a current ``.crai`` beside it when
    ``options.use_index``, else one task per byte range (its first container searched for)."""
    with open_channel(path) as channel:
        header, size = read_cram_header(channel), channel.size
        crai = find_crai(path, size) if options.use_index else None
        offsets = None if crai is None else _indexed_offsets(channel, header, crai)
    common = dict(header=_shipped(header), search=options.search, reference=options.reference, verify=options.verify)
    ranges = compute_byte_ranges(size, options.split_size)
    if offsets is not None:
        splits = splits_from_offsets(offsets, ranges, size)
        return header, [CramTask(path, size, exact_byte_range(split), exact=split, **common) for split in splits]
    return header, [CramTask(path, size, rng, **common) for rng in ranges]


def _indexed_offsets(channel, header: CramHeader, crai: CraiIndex) -> Optional[np.ndarray]:
    """The indexed containers as virtual offsets ``Pos(offset, 0)``, then where the last one
    ends (the end-of-file container): the split core's exact-mode input.  None when the
    index lists no data container."""
    offsets = [offset for offset in crai.container_offsets if offset >= header.first_container]
    if not offsets:
        return None
    last = read_container_header(channel, offsets[-1], header.definition, len(header.reference_names),
                                 "last container named by the .crai")
    return np.array(offsets + [last.end], dtype=np.int64) << UOFFSET_BITS


def plan_cram_regions(path: str, regions: Sequence[str], options: CramReadOptions = CramReadOptions()
                      ) -> Tuple[CramHeader, List[CramTask]]:
    """Tasks reading only the containers the ``.crai`` says may hold reads of ``regions``
    (samtools region strings); each keeps only the reads overlapping one of them."""
    with open_channel(path) as channel:
        header, size = read_cram_header(channel), channel.size
    crai = find_crai(path, size)
    if crai is None:
        raise IndexFormatError(f"reading regions of a CRAM needs a current {CRAI_SUFFIX} beside it "
                               "(samtools index FILE.cram)", path)
    parsed = parse_regions(list(regions), header.reference_names, header.reference_lengths)
    wanted = tuple((region.ref_id, region.beg, region.end) for region in parsed)
    common = dict(header=_shipped(header), search=options.search, reference=options.reference,
                  verify=options.verify, regions=wanted)
    splits = [Split(Pos(first, 0), Pos(size if after is None else after, 0))
              for first, after in containers_for_regions(crai, parsed)]
    tasks = [CramTask(path, size, exact_byte_range(split), exact=split, **common) for split in splits]
    return header, tasks
