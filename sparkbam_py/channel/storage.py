"""Credentials and endpoints for fsspec stores, given as data source options.

Users of s3fs pass ``storage_options`` (``key``, ``secret``, ``token``, ``endpoint_url``,
``client_kwargs``, ``config_kwargs``...); Spark users pass Hadoop's S3A names
(``fs.s3a.access.key``, ``fs.s3a.secret.key``, ``fs.s3a.endpoint``...).  Both are accepted as
options of ``spark.read.format("bam")``:

* ``storage.<name>``: one fsspec keyword (``storage.endpoint_url``, ``storage.anon``);
* ``storageOptions``: a JSON object of them (for nested ones like ``config_kwargs``);
* ``fs.s3a.access.key``, ``fs.s3a.secret.key``, ``fs.s3a.session.token``, ``fs.s3a.endpoint``.

The environment works as it does for boto3 and s3fs (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, fsspec's ``FSSPEC_S3_<NAME>``): nothing to do.

The options travel inside the pickled data source reader; :func:`storage_options_applied`
installs them as fsspec's configuration defaults for the protocols read (``fsspec.config.conf``),
on the driver while planning and on each executor while reading, and restores the previous
configuration afterwards.  Every fsspec call made meanwhile (listing a glob, opening an
index, reading a split) sees them.
"""
from __future__ import annotations

import contextlib
import json
from typing import Dict, Iterable, Iterator, Mapping, Tuple
from urllib.parse import urlsplit

from ..errors import ConfigError

PREFIX = "storage."
JSON_OPTION = "storageoptions"
# Hadoop S3A property -> s3fs keyword (hadoop-aws "Authenticating with S3", "Configuring endpoints").
S3A_NAMES = {
    "fs.s3a.access.key": "key",
    "fs.s3a.secret.key": "secret",
    "fs.s3a.session.token": "token",
    "fs.s3a.endpoint": "endpoint_url",
}
# Schemes read without fsspec (see sources.open_source), which its configuration cannot reach.
NOT_FSSPEC = ("", "http", "https")
_BOOLEANS = {"true": True, "false": False}


def is_storage_option(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(PREFIX) or lowered == JSON_OPTION or lowered in S3A_NAMES


def split_storage_options(options: Mapping[str, str]) -> Tuple[Dict[str, str], Dict[str, object]]:
    """``(other options, fsspec storage options)`` from a data source's string options."""
    others: Dict[str, str] = {}
    storage: Dict[str, object] = {}
    for name, value in options.items():
        lowered = name.lower()
        if lowered == JSON_OPTION:
            storage.update(_json_object(value))
        elif lowered.startswith(PREFIX) and len(lowered) > len(PREFIX):
            storage[lowered[len(PREFIX):]] = _typed(value)
        elif lowered in S3A_NAMES:
            storage[S3A_NAMES[lowered]] = _s3a_value(lowered, value)
        else:
            others[name] = value
    return others, storage


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"option storageOptions must be a JSON object: {error}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"option storageOptions must be a JSON object, got {text!r}")
    return value


def _typed(value: str) -> object:
    """Option values are strings; fsspec wants ``anon=True``, not ``"true"`` (which is truthy)."""
    return _BOOLEANS.get(str(value).strip().lower(), value)


def _s3a_value(name: str, value: str) -> str:
    if name == "fs.s3a.endpoint" and "://" not in value:
        return f"https://{value}"  # S3A takes a bare host and means HTTPS
    return value


def protocols_of(paths: Iterable[str]) -> Tuple[str, ...]:
    """The fsspec protocols among ``paths`` (local files and HTTP URLs are not read by fsspec)."""
    found = []
    for path in paths:
        scheme = urlsplit(str(path)).scheme.lower()
        if len(scheme) > 1 and scheme not in NOT_FSSPEC and scheme not in found:
            found.append(scheme)
    return tuple(found)


@contextlib.contextmanager
def storage_options_applied(storage: Mapping[str, object], paths: Iterable[str]) -> Iterator[None]:
    """fsspec's defaults for the protocols of ``paths`` include ``storage`` while inside.

    One Spark task runs at a time in a Python worker, so setting process-wide configuration
    for the duration of a task does not leak into another task's reads.
    """
    if not storage:
        yield
        return
    import fsspec.config  # deferred: most reads need no fsspec at all

    conf = fsspec.config.conf
    saved = {protocol: conf.get(protocol) for protocol in protocols_of(paths)}
    for protocol in saved:
        conf[protocol] = {**(saved[protocol] or {}), **storage}
    try:
        yield
    finally:
        for protocol, previous in saved.items():
            if previous is None:
                conf.pop(protocol, None)
            else:
                conf[protocol] = previous


def iterate_with_storage(storage: Mapping[str, object], paths: Iterable[str], items: Iterator) -> Iterator:
    """``items`` (a lazy iterator, e.g. a data source's batches) consumed with ``storage`` applied."""
    paths = list(paths)
    with storage_options_applied(storage, paths):
        yield from items
