"""Turn what a user passes (a file, a glob, a directory, a list; local or any URL) into BAM paths.

Local paths are expanded with the standard library; ``http(s)://`` URLs are taken as single
files (plain HTTP cannot list); every other scheme (``file://``, ``s3://``, ``gs://``,
``hdfs://``...) is listed through fsspec.  Directories contribute their ``*.bam`` files,
without recursing and skipping hidden ones (``.x``, ``_x``), as Hadoop's input formats do.
"""
from __future__ import annotations

import glob
import os
from typing import Iterable, List, Union
from urllib.parse import urlsplit

from ..errors import ConfigError, InputIOError, MissingInputError, SparkBamError

GLOB_CHARACTERS = "*?["
BAM_SUFFIX = ".bam"
HIDDEN_PREFIXES = (".", "_")
UNLISTABLE_SCHEMES = ("http", "https")

PathsArgument = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]


def expand_paths(paths: PathsArgument) -> List[str]:
    """The BAM files named by ``paths``, in order, each once."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise ConfigError("no input path given")
    found: List[str] = []
    for item in items:
        found.extend(_expand_one(os.fspath(item)))
    return list(dict.fromkeys(found))


def is_local_path(path: str) -> bool:
    scheme = urlsplit(path).scheme
    # A one-letter "scheme" is a Windows drive letter, not a URL.
    return scheme == "" or len(scheme) == 1


def _is_bam_name(name: str) -> bool:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return base.lower().endswith(BAM_SUFFIX) and not base.startswith(HIDDEN_PREFIXES)


def _has_glob(path: str) -> bool:
    return any(character in path for character in GLOB_CHARACTERS)


def _expand_one(path: str) -> List[str]:
    if urlsplit(path).scheme in UNLISTABLE_SCHEMES:
        return [path]
    if is_local_path(path):
        return _expand_local(path)
    return _expand_fsspec(path)


def _expand_local(path: str) -> List[str]:
    if _has_glob(path):
        matches = sorted(m for m in glob.glob(path) if os.path.isfile(m) and _is_bam_name(m))
        return _non_empty(matches, path, "no BAM file matches the pattern")
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if _is_bam_name(n))
        files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        return _non_empty(files, path, "the directory holds no .bam file")
    if not os.path.exists(path):
        raise MissingInputError("no such file or directory", path)
    return [path]


def _expand_fsspec(url: str) -> List[str]:
    """The files ``url`` names on its store; the store's own errors come back typed."""
    import fsspec

    try:
        fs, fs_path = fsspec.core.url_to_fs(url)
    except ImportError as error:  # fsspec names the missing plugin (s3fs, gcsfs...)
        raise ConfigError(f"no filesystem for this URL: {error}", url) from error
    try:
        return _list_store(fs, fs_path, url)
    except SparkBamError:
        raise
    except FileNotFoundError as error:
        raise MissingInputError(f"no such file or object ({error})", url) from error
    except Exception as error:  # botocore, gcsfs, HTTP and OS errors alike
        raise InputIOError(f"listing failed: {type(error).__name__}: {error}", url) from error


def _list_store(fs, fs_path: str, url: str) -> List[str]:
    if _has_glob(fs_path):
        matches = [m for m in sorted(fs.glob(fs_path)) if _is_bam_name(m) and fs.isfile(m)]
        return _non_empty([fs.unstrip_protocol(m) for m in matches], url, "no BAM file matches the pattern")
    if fs.isdir(fs_path):
        entries = fs.ls(fs_path, detail=True)
        files = sorted(e["name"] for e in entries if e.get("type") == "file" and _is_bam_name(e["name"]))
        return _non_empty([fs.unstrip_protocol(f) for f in files], url, "the directory holds no .bam file")
    if not fs.exists(fs_path):
        raise MissingInputError("no such file or object", url)
    return [url]


def _non_empty(paths: List[str], where: str, message: str) -> List[str]:
    if not paths:
        raise MissingInputError(message, where)
    return paths
