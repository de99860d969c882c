"""The driver's commit of a text write: parts to one bgzipped file (or shards) and its index.

The file is assembled as a BAM is (:mod:`.commit`): header blocks, every part's blocks in
order, the EOF marker once; locally with ``copy_file_range`` into a partial file renamed
into place, on object stores streamed into one object.  Shards are the parts themselves
(each already holds its header and EOF), renamed ``part-NNNNN<suffix>``.

The index is written only for a file in tabix order: each contig's lines together and
begins ascending within it, across parts too.  A result out of that order is refused with
:class:`UnsortedOutputError` before anything is written, naming the first line out of
order: an index built over it would silently miss records.
"""
from __future__ import annotations

import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ConfigError
from .commit import abort, blocks_of, committed_parts, concatenate, remove_stale_indexes, write_bytes
from .errors import CommitError
from .job import filesystem
from .tabix_write import TBI_REACH, renumbered, tabix_index_bytes
from .text_job import TextWriteJob
from .text_part import TextPartSummary

TABIX_SUFFIXES = (".tbi", ".csi")
_SHARD = re.compile(r"part-(\d+)\.")


class UnsortedOutputError(ConfigError):
    """The rows are not in the order a tabix index needs (each contig together, begins
    ascending): sort them (``sort=True``) or write without an index (``index=False``)."""


def commit_text(job: TextWriteJob, messages: Sequence[Optional[TextPartSummary]]) -> dict:
    """Assemble the output from the committed parts; a summary of what was written."""
    parts = committed_parts(job, messages)
    try:
        parts = _in_output_order(job, [part for part in parts if part.records])
        samples = _agreed_samples(job, parts)
        if job.sharded:
            return _commit_shards(job, parts)
        return _commit_single(job, parts, samples)
    finally:
        abort(job)


def _in_output_order(job: TextWriteJob, parts: List[TextPartSummary]) -> List[TextPartSummary]:
    """Partition order; with a per-task sort, the parts ordered by their first line (they
    must not overlap: a data source cannot shuffle rows between tasks)."""
    if job.sort_order is None:
        return parts
    rank = {name: k for k, name in enumerate(job.sort_order)}

    def key(position: Tuple[str, int]):
        return rank.get(position[0], len(rank)), position[0], position[1]

    ordered = sorted(parts, key=lambda part: key(part.first))
    for before, after in zip(ordered, ordered[1:]):
        if key(after.first) < key(before.last):
            raise UnsortedOutputError(
                f"sorting within tasks left partitions {before.partition} and {after.partition} overlapping "
                f"({after.first[0]}:{after.first[1] + 1} is before {before.last[0]}:{before.last[1] + 1}); "
                "the data source cannot move rows between tasks: use sparkbam_py's write function with "
                "sort=True, or repartitionByRange and sortWithinPartitions first", job.path)
    return ordered


def _agreed_samples(job: TextWriteJob, parts: List[TextPartSummary]):
    """The samples every part took from its rows (a VCF without samples in its header)."""
    found = [part for part in parts if part.samples]
    for part in found[1:]:
        if part.samples != found[0].samples:
            raise CommitError(f"partition {part.partition}'s rows name samples {list(part.samples)[:5]}... but "
                              f"partition {found[0].partition}'s {list(found[0].samples)[:5]}...: give the "
                              "samples in a header (headerFrom) to write them in one order", job.path)
    return found[0].samples if found else None


def tabix_order(parts: List[TextPartSummary], path: str) -> List[str]:
    """The file's contigs in order of appearance; UnsortedOutputError where the parts, in
    order, are not in tabix order."""
    names: List[str] = []
    last: Optional[Tuple[str, int]] = None
    for part in parts:
        if not part.sorted:
            raise UnsortedOutputError(f"partition {part.partition}: {part.disorder}", path)
        for k, name in enumerate(part.contigs):
            if k == 0 and last is not None and name == last[0]:
                if part.first[1] < last[1]:
                    raise UnsortedOutputError(f"partition {part.partition}: {name}:{part.first[1] + 1} comes after "
                                              f"{name}:{last[1] + 1}", path)
                continue
            if name in names:
                raise UnsortedOutputError(f"partition {part.partition}: {name} appears again after {names[-1]}", path)
            names.append(name)
        last = part.last
    return names


def _index_file(job: TextWriteJob, parts: List[TextPartSummary], starts: List[int], names: List[str],
                data_path: str) -> Optional[str]:
    index = _index_bytes(job, parts, starts, names)
    return _write_index(index, data_path)


def _index_bytes(job: TextWriteJob, parts: List[TextPartSummary], starts: List[int],
                 names: List[str]) -> Optional[Tuple[bytes, str]]:
    """``(the merged index, its suffix)`` of ``parts`` starting at ``starts``; None: no index."""
    if job.index_kind is None:
        return None
    ids: Dict[str, int] = {name: k for k, name in enumerate(names)}
    pieces = [renumbered(part.index.shifted(start), np.array([ids[c] for c in part.contigs] or [0], np.int64))
              for part, start in zip(parts, starts)]
    max_end = max((part.max_end for part in parts), default=0)
    kind = "csi" if job.index_kind == "csi" or max_end > TBI_REACH else "tbi"
    return tabix_index_bytes(pieces, names, job.line_writer.tabix, kind, max_end)


def _write_index(index: Optional[Tuple[bytes, str]], data_path: str) -> Optional[str]:
    if index is None:
        return None
    data, suffix = index
    write_bytes(data_path + suffix, data)
    return data_path + suffix


def _commit_single(job: TextWriteJob, parts: List[TextPartSummary], samples) -> dict:
    names = tabix_order(parts, job.path) if job.index_kind else []
    head = blocks_of(job.line_writer.header_text(samples).encode("utf-8"), job.settings)
    starts, at = [], len(head)
    for part in parts:
        starts.append(at)
        at += part.compressed_size
    # The copy runs in the kernel (or on the store) without the GIL: the index is merged
    # meanwhile, on the driver's other core, instead of after it.
    with ThreadPoolExecutor(max_workers=1) as copier:
        copied = copier.submit(concatenate, job.path, head, [part.path for part in parts])
        index = _index_bytes(job, parts, starts, names)
        copied.result()
    remove_stale_indexes(job.path, TABIX_SUFFIXES)
    written = _write_index(index, job.path)
    return {"path": job.path, "records": sum(part.records for part in parts), "parts": len(parts),
            "indexes": [written] if written else []}


def _commit_shards(job: TextWriteJob, parts: List[TextPartSummary]) -> dict:
    if job.index_kind:
        for part in parts:
            tabix_order([part], job.path)  # refuse before any shard is moved
    fs, out_dir = filesystem(job.path)
    if fs.exists(out_dir) and not job.append:
        fs.rm(out_dir, recursive=True)
    fs.makedirs(out_dir, exist_ok=True)
    first_number = _next_shard_number(fs, out_dir) if job.append else 0
    shards = []
    for number, part in enumerate(parts, first_number):
        shard = posixpath.join(job.path, f"part-{number:05d}{job.line_writer.suffix}")
        fs.mv(filesystem(part.path)[1], filesystem(shard)[1])
        remove_stale_indexes(shard, TABIX_SUFFIXES)
        _index_file(job, [part], [part.header_size], list(part.contigs), shard)
        shards.append(shard)
    return {"path": job.path, "records": sum(part.records for part in parts), "parts": len(parts),
            "shards": shards}


def _next_shard_number(fs, out_dir: str) -> int:
    numbers = [int(match.group(1)) for match in (_SHARD.match(posixpath.basename(name))
                                                 for name in fs.ls(out_dir, detail=False)) if match]
    return max(numbers, default=-1) + 1
