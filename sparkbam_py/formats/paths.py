"""Turn what a user passes (a file, a glob, a directory, a list; local or any URL) into files.

Local paths are expanded with the standard library; ``http(s)://`` URLs are taken as single
files (plain HTTP cannot list); every other scheme (``file://``, ``s3://``, ``gs://``,
``hdfs://``...) is listed through fsspec.  Directories and globs contribute the files whose
names end with one of the format's suffixes (``*.bam`` for BAM), without recursing and
skipping hidden ones (``.x``, ``_x``), as Hadoop's input formats do.  Files named one by one
are taken as they are, whatever their names.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Iterable, List, Mapping, Sequence, Union
from urllib.parse import urlsplit

from ..errors import ConfigError, InputIOError, MissingInputError, SparkBamError

GLOB_CHARACTERS = "*?["
BAM_SUFFIXES = (".bam",)
HIDDEN_PREFIXES = (".", "_")
UNLISTABLE_SCHEMES = ("http", "https")

PathsArgument = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]


def expand_paths(paths: PathsArgument, suffixes: Sequence[str] = BAM_SUFFIXES, kind: str = "BAM") -> List[str]:
    """The files named by ``paths``, in order, each once: directories and globs contribute
    those whose names end with one of ``suffixes`` (``kind`` names them in errors)."""
    items = path_items(paths)
    if not items:
        raise ConfigError("no input path given")
    listing = _Listing(tuple(suffix.lower() for suffix in suffixes), kind)
    found: List[str] = []
    for item in items:
        found.extend(listing.expand(item))
    return list(dict.fromkeys(found))


def path_items(paths: PathsArgument) -> List[str]:
    """The path argument as a list of strings, nothing listed."""
    return [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(item) for item in paths]


def load_argument(paths: PathsArgument):
    """What ``DataFrameReader.load`` takes for ``paths``: one string, or a list of them."""
    return os.fspath(paths) if isinstance(paths, (str, os.PathLike)) else path_items(paths)


def given_paths(options: Mapping[str, str]) -> List[str]:
    """The paths of ``load(path)`` or ``load([a, b])`` as given (Spark passes a list as JSON
    in ``paths``), nothing listed; empty when there is none."""
    given = {key.lower(): value for key, value in options.items()}
    if "paths" in given:
        return list(json.loads(given["paths"]))
    return [given["path"]] if "path" in given else []


def is_listing(path: str) -> bool:
    """Whether ``path`` names many files (a glob, or a local directory) rather than one."""
    return _has_glob(path) or (is_local_path(path) and os.path.isdir(path))


def is_local_path(path: str) -> bool:
    scheme = urlsplit(path).scheme
    # A one-letter "scheme" is a Windows drive letter, not a URL.
    return scheme == "" or len(scheme) == 1


def _has_glob(path: str) -> bool:
    return any(character in path for character in GLOB_CHARACTERS)


class _Listing:
    """Expands one path item into the files of one format."""

    def __init__(self, suffixes: Sequence[str], kind: str):
        self.suffixes, self.kind = suffixes, kind

    def named(self, name: str) -> bool:
        base = name.rstrip("/").rsplit("/", 1)[-1]
        return base.lower().endswith(self.suffixes) and not base.startswith(HIDDEN_PREFIXES)

    def expand(self, path: str) -> List[str]:
        if urlsplit(path).scheme in UNLISTABLE_SCHEMES:
            return [path]
        if is_local_path(path):
            return self._expand_local(path)
        return self._expand_fsspec(path)

    def _expand_local(self, path: str) -> List[str]:
        if _has_glob(path):
            matches = sorted(m for m in glob.glob(path) if os.path.isfile(m) and self.named(m))
            return self._non_empty(matches, path, f"no {self.kind} file matches the pattern")
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if self.named(n))
            files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
            return self._non_empty(files, path, f"the directory holds no {self._suffix_words()} file")
        if not os.path.exists(path):
            raise MissingInputError("no such file or directory", path)
        return [path]

    def _expand_fsspec(self, url: str) -> List[str]:
        """The files ``url`` names on its store; the store's own errors come back typed."""
        import fsspec

        try:
            fs, fs_path = fsspec.core.url_to_fs(url)
        except ImportError as error:  # fsspec names the missing plugin (s3fs, gcsfs...)
            raise ConfigError(f"no filesystem for this URL: {error}", url) from error
        try:
            return self._list_store(fs, fs_path, url)
        except SparkBamError:
            raise
        except FileNotFoundError as error:
            raise MissingInputError(f"no such file or object ({error})", url) from error
        except Exception as error:  # botocore, gcsfs, HTTP and OS errors alike
            raise InputIOError(f"listing failed: {type(error).__name__}: {error}", url) from error

    def _list_store(self, fs, fs_path: str, url: str) -> List[str]:
        if _has_glob(fs_path):
            matches = [m for m in sorted(fs.glob(fs_path)) if self.named(m) and fs.isfile(m)]
            return self._non_empty([fs.unstrip_protocol(m) for m in matches], url,
                                   f"no {self.kind} file matches the pattern")
        if fs.isdir(fs_path):
            entries = fs.ls(fs_path, detail=True)
            files = sorted(e["name"] for e in entries if e.get("type") == "file" and self.named(e["name"]))
            return self._non_empty([fs.unstrip_protocol(f) for f in files], url,
                                   f"the directory holds no {self._suffix_words()} file")
        if not fs.exists(fs_path):
            raise MissingInputError("no such file or object", url)
        return [url]

    def _suffix_words(self) -> str:
        return " or ".join(self.suffixes)

    @staticmethod
    def _non_empty(paths: List[str], where: str, message: str) -> List[str]:
        if not paths:
            raise MissingInputError(message, where)
        return paths


def paths_from_options(options: Mapping[str, str], format_name: str = "bam", suffixes: Sequence[str] = BAM_SUFFIXES,
                       kind: str = "BAM") -> List[str]:
    """The files of ``load(path)`` or ``load([a, b])`` (see :func:`given_paths`), listed."""
    items = given_paths(options)
    if not items:
        raise ConfigError(f"no path: use spark.read.format({format_name!r}).load(path_or_list)")
    return expand_paths(items, suffixes, kind)
