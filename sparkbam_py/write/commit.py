"""The driver's commit: parts to one BAM (or to shards), with merged ``.bai``/``.csi`` and ``.sbi``.

One BAM: the header block, then every committed part's blocks in partition order, then the
EOF marker once (SAMv1 §4.1.2).  Locally the parts are appended with ``copy_file_range``
(in-kernel, no copy through Python) into ``OUT.partial-<id>``, renamed to ``OUT`` at the
end, so a reader never sees half a BAM.  On other fsspec stores the parts are streamed, in
order, into one object written in one pass (8 MiB reads): this works on every store, at the
cost of moving the bytes through the driver once; server-side compose is not used.

Indexes: each part's pieces are shifted by the part's final start and merged
(:mod:`index_merge`).  A BAI/CSI is written only when every part is coordinate-sorted and
the parts follow each other in order; otherwise none is, and a stale one beside the output
is removed.  The parts folder is removed last (also on abort).
"""
from __future__ import annotations

import os
import posixpath
import uuid
import warnings
from typing import Dict, List, Optional, Sequence

from ..bgzf.constants import EOF_MARKER
from ..bgzf.writer import compress_block
from .errors import CommitError
from .index_merge import MergedIndex, merge_sbi
from .job import WriteJob, filesystem
from .part import PartSummary

_COPY_CHUNK = 8 << 20
INDEX_SUFFIXES = (".bai", ".csi", ".sbi")


class UnsortedOutputWarning(UserWarning):
    """The rows were not coordinate-sorted, so no BAI/CSI was written."""


def committed_parts(job: WriteJob, messages: Sequence[Optional[PartSummary]]) -> List[PartSummary]:
    """One summary per partition, in partition order; a missing one is an error."""
    by_partition: Dict[int, PartSummary] = {}
    for summary in messages:
        if summary is None:
            raise CommitError("a task sent no commit message: refusing to commit a partial output", job.path)
        by_partition.setdefault(summary.partition, summary)
    return [by_partition[p] for p in sorted(by_partition)]


def header_blocks(job: WriteJob) -> bytes:
    data = job.header.to_bytes()
    return b"".join(compress_block(data[i:i + 0xFF00], job.settings.level, b"", job.settings.deflate_backend)
                    for i in range(0, len(data), 0xFF00))


def commit(job: WriteJob, messages: Sequence[Optional[PartSummary]]) -> dict:
    """Assemble the output from the committed parts; a summary of what was written."""
    parts = committed_parts(job, messages)
    try:
        if job.sorted_output and not _in_order(parts):
            raise CommitError("the parts of a sorted write are not in coordinate order: refusing to write a "
                              "BAM whose header says SO:coordinate", job.path)
        if job.sharded:
            return _commit_shards(job, parts)
        return _commit_single(job, parts)
    finally:
        abort(job)


def abort(job: WriteJob) -> None:
    """Remove the parts folder (every attempt's files)."""
    fs, local = filesystem(job.parts_dir)
    if fs.exists(local):
        fs.rm(local, recursive=True)


def _commit_single(job: WriteJob, parts: List[PartSummary]) -> dict:
    head = header_blocks(job)
    starts, at = [], len(head)
    for part in parts:
        starts.append(at)
        at += part.compressed_size
    size = at + len(EOF_MARKER)
    _concatenate(job.path, head, [part.path for part in parts])
    _remove_stale_indexes(job.path)
    records = sum(part.records for part in parts)
    sbi = merge_sbi([p.sbi_offsets for p in parts], starts, records, size, job.settings.sbi_granularity)
    _write_bytes(job.path + ".sbi", sbi.to_bytes())
    written = [job.path + ".sbi"]
    index_path = _write_index(job, parts, starts, job.path)
    if index_path:
        written.append(index_path)
    return {"path": job.path, "records": records, "bytes": size, "parts": len(parts), "indexes": written}


def _commit_shards(job: WriteJob, parts: List[PartSummary]) -> dict:
    fs, out_dir = filesystem(job.path)
    fs.makedirs(out_dir, exist_ok=True)
    shards = []
    for number, part in enumerate(parts):
        shard = posixpath.join(job.path, f"part-{number:05d}.bam")
        fs.mv(filesystem(part.path)[1], filesystem(shard)[1])
        _remove_stale_indexes(shard)
        size = part.header_size + part.compressed_size + len(EOF_MARKER)
        sbi = merge_sbi([part.sbi_offsets], [part.header_size], part.records, size, job.settings.sbi_granularity)
        _write_bytes(shard + ".sbi", sbi.to_bytes())
        _write_index(job, [part], [part.header_size], shard)
        shards.append(shard)
    return {"path": job.path, "records": sum(p.records for p in parts), "parts": len(parts), "shards": shards}


def _write_index(job: WriteJob, parts: List[PartSummary], starts: List[int], bam_path: str) -> Optional[str]:
    if job.index_kind is None:
        return None
    if not _in_coordinate_order(parts):
        warnings.warn(f"{bam_path}: the records are not coordinate-sorted (or lie past the end the "
                      f"index can reach); no .{job.index_kind} written",
                      UnsortedOutputWarning, stacklevel=3)
        return None
    min_shift, depth = job.settings.index_scheme
    pieces = [part.index.shifted(start) for part, start in zip(parts, starts)]
    merged = MergedIndex(pieces, len(job.header.reference_names), min_shift, depth)
    data = merged.bai_bytes() if job.index_kind == "bai" else merged.csi_bytes()
    path = f"{bam_path}.{job.index_kind}"
    _write_bytes(path, data)
    return path


def _in_coordinate_order(parts: List[PartSummary]) -> bool:
    return all(part.index is not None for part in parts) and _in_order(parts)


def _in_order(parts: List[PartSummary]) -> bool:
    """Every part sorted, and each part's first record at or after the previous one's last."""
    last = None
    for part in parts:
        if not part.sorted:
            return False
        if part.first_key is None:
            continue
        if last is not None and part.first_key < last:
            return False
        last = part.last_key
    return True


def _remove_stale_indexes(bam_path: str) -> None:
    for suffix in INDEX_SUFFIXES:
        fs, local = filesystem(bam_path + suffix)
        if fs.exists(local):
            fs.rm(local)


def _write_bytes(path: str, data: bytes) -> None:
    fs, local = filesystem(path)
    if _is_local(fs):
        _write_local_atomically(local, data)
        return
    with fs.open(local, "wb") as out:
        out.write(data)


def _write_local_atomically(local: str, data: bytes) -> None:
    """Write ``data`` atomically to a local path (a partial file renamed into place)."""
    partial = f"{local}.partial-{uuid.uuid4().hex}"
    with open(partial, "wb") as out:
        out.write(data)
    os.replace(partial, local)


def _is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,))


def _concatenate(path: str, head: bytes, part_paths: List[str]) -> None:
    fs, local = filesystem(path)
    if _is_local(fs):
        _concatenate_local(local, head, [filesystem(p)[1] for p in part_paths])
        return
    with fs.open(local, "wb") as out:
        out.write(head)
        for part in part_paths:
            part_fs, part_local = filesystem(part)
            with part_fs.open(part_local, "rb") as source:
                while True:
                    chunk = source.read(_COPY_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
        out.write(EOF_MARKER)


def _concatenate_local(local: str, head: bytes, parts: List[str]) -> None:
    partial = f"{local}.partial-{uuid.uuid4().hex}"
    try:
        with open(partial, "wb") as out:
            out.write(head)
            out.flush()
            for part in parts:
                with open(part, "rb") as source:
                    _copy_all(source, out)
            out.write(EOF_MARKER)
        if os.path.isdir(local):
            raise CommitError("the output path is a directory", local)
        os.replace(partial, local)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _copy_all(source, out) -> None:
    size = os.fstat(source.fileno()).st_size
    copied = 0
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while copied < size:
                n = copy_range(source.fileno(), out.fileno(), size - copied, copied)
                if n <= 0:
                    break
                copied += n
        except OSError:
            pass
    out.seek(0, os.SEEK_END)
    source.seek(copied)
    while True:
        chunk = source.read(_COPY_CHUNK)
        if not chunk:
            return
        out.write(chunk)
