"""The driver's share of writing a store: clear the way first, commit last.

Layout::

    manifest.json          written last: format, contigs, tracks, chunk length, sources,
                           filters, the part files and the index file of this build
    index/<build>.arrow    one row per chunk that is not all zeros (:mod:`.store_index`)
    parts/<uuid>.bin       encoded chunks (:mod:`.chunk_codec`), one file per task attempt

A build first removes the manifest of any store already there, so from then on readers
see an unfinished store (:class:`IncompleteStoreError`) rather than a mix of two builds;
tasks write parts under fresh names; the driver writes the index, then the manifest (by
rename on a local disk, one PUT on an object store), then removes every part and index
file the new manifest does not name: those of failed or retried attempts, of pieces that
were merged, of the build it replaced, and an old layout's ``contigs/`` folder.  One build
writes a store at a time.
"""
from __future__ import annotations

import json
import uuid
from typing import Iterable, List, Optional, Sequence, Tuple

import pyarrow as pa

from ..errors import ConfigError, CorruptDataError, MissingInputError
from ..version import __version__
from .chunk_files import PARTS_FOLDER, store_filesystem
from .store_index import index_from_rows, write_index

MANIFEST_NAME = "manifest.json"
STORE_FORMAT = "sparkbam-coverage"
STORE_FORMAT_VERSION = 2
INDEX_FOLDER = "index"
OLD_LAYOUT_FOLDER = "contigs"  # format version 1: one .npy per contig and its cumulative sums
REBUILD_HINT = ("build it again: `sparkbam coverage BAM... -o STORE` (or `sparkbam coverage-import` for "
                "imported values) writes the current layout in its place")


class IncompleteStoreError(MissingInputError):
    """A store folder without a manifest: its build was interrupted or is still running."""


class OldStoreLayoutError(ConfigError):
    """A store written in an earlier layout, which this version does not read."""


def read_manifest(fs, root: str, url: str) -> dict:
    """The manifest of the store at ``root``; a clear error when there is none or it is foreign."""
    try:
        manifest = json.loads(fs.cat_file(f"{root}/{MANIFEST_NAME}"))
    except FileNotFoundError:
        if any(fs.exists(f"{root}/{folder}") for folder in (PARTS_FOLDER, INDEX_FOLDER)):
            raise IncompleteStoreError("this coverage store was not finished (no manifest.json: its build was "
                                       f"interrupted, or is still running); {REBUILD_HINT}", url) from None
        raise MissingInputError("no coverage store here (manifest.json missing)", url) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as bad:
        raise CorruptDataError(f"manifest.json is not JSON: {bad}", url) from None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        raise CorruptDataError(f"manifest.json is not a {STORE_FORMAT} manifest", url)
    version = manifest.get("format_version")
    if version != STORE_FORMAT_VERSION:
        raise OldStoreLayoutError(f"this coverage store has layout version {version}; this version of sparkbam_py "
                                  f"reads version {STORE_FORMAT_VERSION} only; {REBUILD_HINT}", url)
    return manifest


def prepare_store(url: str, storage_options: Optional[dict] = None) -> None:
    """Make the store's folder; if a store is there already, it stops being one now."""
    fs, root = store_filesystem(url, storage_options)
    fs.makedirs(root, exist_ok=True)
    if fs.exists(f"{root}/{MANIFEST_NAME}"):
        fs.rm(f"{root}/{MANIFEST_NAME}")


def commit_store(url: str, contigs: Sequence[Tuple[str, int]], tracks: Sequence[str], chunk_length: int,
                 rows: Iterable[pa.RecordBatch], metadata: Optional[dict] = None,
                 storage_options: Optional[dict] = None) -> dict:
    """Write the index and then the manifest of the chunks in ``rows``; remove what it does not name."""
    if not tracks:
        raise ConfigError("a coverage store needs at least one track", url)
    fs, root = store_filesystem(url, storage_options)
    index = index_from_rows(rows, len(tracks))
    index_name = f"{INDEX_FOLDER}/{uuid.uuid4().hex}.arrow"
    fs.makedirs(f"{root}/{INDEX_FOLDER}", exist_ok=True)
    index_bytes = write_index(fs, f"{root}/{index_name}", index)
    extents = {name: 0 for name in index.parts}
    for part, end in zip(index.part, index.offset + index.nbytes):
        if part >= 0:
            extents[index.parts[part]] = max(extents[index.parts[part]], int(end))
    values = "float" if index.sums.dtype.kind == "f" else "int"
    manifest = {
        "format": STORE_FORMAT, "format_version": STORE_FORMAT_VERSION,
        "tool": "sparkbam_py", "tool_version": __version__,
        "tracks": list(tracks), "values": values, "chunk_length": int(chunk_length), **(metadata or {}),
        "contigs": [{"name": name, "length": int(length)} for name, length in contigs],
        "index": index_name, "chunks": len(index), "parts": extents,
        "stored_bytes": int(sum(extents.values()) + index_bytes),
    }
    _write_manifest(fs, root, manifest)
    remove_unreferenced(fs, root, set(extents) | {index_name})
    return manifest


def _write_manifest(fs, root: str, manifest: dict) -> None:
    body = json.dumps(manifest, indent=1).encode()
    target = f"{root}/{MANIFEST_NAME}"
    if "file" in fs.protocol or "local" in fs.protocol:
        staged = f"{target}.{uuid.uuid4().hex}.tmp"
        fs.pipe_file(staged, body)
        fs.mv(staged, target)  # a rename: readers see the old file or the whole new one
    else:
        fs.pipe_file(target, body)  # one PUT: an object store shows it whole or not at all


def remove_unreferenced(fs, root: str, referenced: set) -> List[str]:
    """Delete part and index files not in ``referenced``, and an old layout's folder."""
    removed = []
    for folder in (PARTS_FOLDER, INDEX_FOLDER):
        if not fs.exists(f"{root}/{folder}"):
            continue
        for path in fs.find(f"{root}/{folder}"):
            name = path[len(root.rstrip("/")) + 1:] if path.startswith(root.rstrip("/")) else path
            if name.lstrip("/") not in referenced:
                removed.append(path)
    if fs.exists(f"{root}/{OLD_LAYOUT_FOLDER}"):
        removed.append(f"{root}/{OLD_LAYOUT_FOLDER}")
    for path in removed:
        fs.rm(path, recursive=True)
    return removed
