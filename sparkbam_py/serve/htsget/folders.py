"""IDs to files: ``runs/NA12878`` is ``runs/NA12878.bam`` (or ``.cram``, ``.vcf.gz``) under one of
the configured folders, local or on an object store, with its index beside it.

Only names under a folder are ever reached: an ID or file name is refused before any lookup
when it is absolute, holds ``.``/``..``/empty parts, backslashes or control characters; a
local name is then resolved through symlinks and must still lie inside the folder.  Folders
are searched in the order given; the first holding the name wins.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence, Tuple

from cachetools import TTLCache

from ...errors import ConfigError
from .errors import HtsgetError, not_found

DATA_SUFFIXES = {"BAM": (".bam",), "CRAM": (".cram",), "VCF": (".vcf.gz", ".vcf.bgz")}
# Index names htslib looks for beside each kind of file (hts_idx_load's candidates), in its order.
INDEX_NAMES = {
    "BAM": (("{name}.bai", "bai"), ("{stem}.bai", "bai"), ("{name}.csi", "csi")),
    "CRAM": (("{name}.crai", "crai"), ("{stem}.crai", "crai")),
    "VCF": (("{name}.tbi", "tbi"), ("{name}.csi", "csi")),
}
BAI_JSON_SUFFIX = ".json"
# What the file endpoint serves besides data and indexes: references for genome browsers.
REFERENCE_SUFFIXES = (".fa", ".fasta", ".fa.fai", ".fasta.fai", ".fa.gz", ".fa.gz.fai", ".fa.gz.gzi", ".2bit")
SERVED_SUFFIXES = tuple(s for group in DATA_SUFFIXES.values() for s in group) + (
    ".bai", ".bai.json", ".csi", ".crai", ".tbi") + REFERENCE_SUFFIXES
MAX_NAME_LENGTH = 1024
REMOTE_LOOKUP_SECONDS = 10


class Located(NamedTuple):
    url: str          # local path or store URL
    size: int
    version: str      # changes when the file does (size and mtime, or the ETag)


@dataclass(frozen=True)
class ServedFile:
    """One data file an ID resolved to, and its companions in the same folder."""

    id: str
    format: str
    relative: str
    data: Located
    index: Located
    index_kind: str
    bai_json: Optional[Located]
    folder: "Folder"

    @property
    def key(self) -> Tuple[str, str]:
        return self.data.url, self.data.version


def check_name(name: str, what: str = "ID") -> str:
    """``name`` when it is a safe relative name; NotFound otherwise (the spec's error for a bad ID)."""
    parts = name.split("/")
    if (not name or len(name) > MAX_NAME_LENGTH or name.startswith("/") or "\\" in name
            or any(ord(c) < 32 or ord(c) == 127 for c in name) or any(p in ("", ".", "..") for p in parts)):
        raise not_found(f"no such {what}: {name[:200]!r}")
    return name


class Folder:
    """A folder of served files; :meth:`locate` finds one name in it, or None."""

    def __init__(self, root: str):
        self.root = root

    def locate(self, relative: str) -> Optional[Located]:
        raise NotImplementedError

    def signed_url(self, located: Located, seconds: int) -> Optional[str]:
        """A time-limited URL the store itself serves, or None when the files come from this app."""
        return None


class LocalFolder(Folder):
    def __init__(self, root: str):
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise ConfigError("not a folder", root)
        super().__init__(real)

    def locate(self, relative: str) -> Optional[Located]:
        path = os.path.realpath(os.path.join(self.root, relative))
        if not path.startswith(self.root + os.sep):  # a symlink (or name) leading out of the folder
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        return Located(path, stat.st_size, f"{stat.st_size}:{stat.st_mtime_ns}")


class StoreFolder(Folder):
    """A folder on an object store (``s3://bucket/prefix``, any fsspec URL); lookups kept 10 s."""

    def __init__(self, root: str, **storage_options):
        import fsspec.core

        super().__init__(root.rstrip("/"))
        self.fs, self.fs_root = fsspec.core.url_to_fs(self.root, **storage_options)
        self.protocol = self.root.split("://", 1)[0]
        self._seen: TTLCache = TTLCache(maxsize=4096, ttl=REMOTE_LOOKUP_SECONDS)
        self._lock = threading.Lock()

    def locate(self, relative: str) -> Optional[Located]:
        with self._lock:
            if relative in self._seen:
                return self._seen[relative]
        try:
            info = self.fs.info(f"{self.fs_root}/{relative}")
        except (FileNotFoundError, PermissionError):
            info = None
        found = None
        if info is not None and info.get("type") == "file":
            version = str(info.get("ETag") or info.get("LastModified") or info.get("mtime") or "")
            found = Located(f"{self.root}/{relative}", int(info["size"]), f"{info['size']}:{version}")
        with self._lock:
            self._seen[relative] = found
        return found

    def signed_url(self, located: Located, seconds: int) -> Optional[str]:
        return self.fs.sign(located.url, expiration=seconds)


def open_folder(root: str) -> Folder:
    """A :class:`LocalFolder` for a path, a :class:`StoreFolder` for a URL (credentials from the environment)."""
    scheme = root.split("://", 1)[0] if "://" in root else ""
    if scheme in ("", "file"):
        return LocalFolder(root[len("file://"):] if scheme else root)
    if scheme in ("http", "https"):
        raise ConfigError("an htsget folder must be a local folder or an object store URL, not HTTP", root)
    return StoreFolder(root)


class Catalog:
    """The served folders: IDs to :class:`ServedFile`, names to files for the file endpoint."""

    def __init__(self, folders: Sequence[Folder]):
        if not folders:
            raise ConfigError("give at least one htsget folder")
        self.folders: List[Folder] = list(folders)

    def resolve(self, kind: str, id_: str, wanted: Optional[str]) -> ServedFile:
        check_name(id_)
        formats = ("BAM", "CRAM") if kind == "reads" else ("VCF",)
        for folder in self.folders:
            for fmt in formats:
                for suffix in DATA_SUFFIXES[fmt]:
                    data = folder.locate(id_ + suffix)
                    if data is None:
                        continue
                    if wanted is not None and wanted != fmt:
                        raise HtsgetError("UnsupportedFormat", f"{id_} is served as {fmt} only; this server "
                                                               "returns files as they are and does not convert")
                    return self._with_index(folder, id_, fmt, id_ + suffix, data)
        raise not_found(f"no such {kind} ID: {id_!r}")

    def _with_index(self, folder: Folder, id_: str, fmt: str, relative: str, data: Located) -> ServedFile:
        stem = relative[: relative.rindex(".")]
        for pattern, kind in INDEX_NAMES[fmt]:
            index = folder.locate(pattern.format(name=relative, stem=stem))
            if index is not None:
                bai_json = folder.locate(relative + ".bai" + BAI_JSON_SUFFIX) if kind == "bai" else None
                return ServedFile(id_, fmt, relative, data, index, kind, bai_json, folder)
        names = ", ".join(pattern.format(name="X", stem="X")[1:] for pattern, _ in INDEX_NAMES[fmt])
        raise not_found(f"{id_} has no index beside it ({names}); only indexed files are served")

    def locate_file(self, relative: str) -> Tuple[Folder, Located]:
        """A servable file (data, index, ``.bai.json`` or reference) by its name under a folder."""
        check_name(relative, "file")
        if not relative.endswith(SERVED_SUFFIXES):
            raise not_found(f"no such file: {relative[:200]!r}")
        for folder in self.folders:
            found = folder.locate(relative)
            if found is not None:
                return folder, found
        raise not_found(f"no such file: {relative[:200]!r}")


def id_of_file(relative: str) -> str:
    """The ID a served file belongs to (its name less every served suffix): what a token's globs match."""
    for suffix in sorted(SERVED_SUFFIXES, key=len, reverse=True):
        if relative.endswith(suffix):
            base = relative[: -len(suffix)]
            return id_of_file(base) if base.endswith(SERVED_SUFFIXES) else base
    return relative
