"""``/files/{name}``: whole files or single byte ranges (RFC 9110 §14), as genome browsers read
BAM, BAI, ``.bai.json`` and bigWig.  Only names known at start-up are served: the BAMs given
(with their indexes) and the files of the store's own folder; nothing outside."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Tuple

from .range_header import parse_range
from .params import HttpError

READ_BLOCK = 1 << 16
BAM_COMPANIONS = (".bai", ".bai.json", ".csi")
CONTENT_TYPES = {".json": "application/json", ".bw": "application/octet-stream", ".bam": "application/octet-stream"}


def served_files(store_dir: str, bams: Iterable[str]) -> Dict[str, Path]:
    """``{name: path}``: the store folder's top-level files, each BAM and its index files."""
    found = {}
    root = Path(store_dir)
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            if entry.is_file():
                found[entry.name] = entry.resolve()
    for bam in bams:
        bam_path = Path(bam).resolve()
        for suffix in ("",) + BAM_COMPANIONS:
            candidate = Path(str(bam_path) + suffix)
            if candidate.is_file():
                found[candidate.name] = candidate
    return found


def file_response(files: Dict[str, Path], name: str, range_header: Optional[str],
                  send_body: bool) -> Tuple[str, list, Iterable[bytes]]:
    """(status line, headers, body) for ``/files/{name}``."""
    path = files.get(name)
    if path is None or not path.is_file():
        raise HttpError(404, f"no served file named {name!r}")
    size = path.stat().st_size
    wanted = parse_range(range_header, size)
    if wanted == (size, size):
        raise HttpError(416, f"range {range_header!r} is outside the file ({size} bytes)",
                        [("Content-Range", f"bytes */{size}")])
    start, end = wanted or (0, size)
    headers = [("Accept-Ranges", "bytes"), ("Content-Length", str(end - start)),
               ("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))]
    status = "200 OK"
    if wanted is not None:
        status = "206 Partial Content"
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
    body = _read_range(path, start, end) if send_body else []
    return status, headers, body


def _read_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            block = handle.read(min(READ_BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block
