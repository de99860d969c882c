"""Byte sources: dispatch, exact reads at the edges, missing inputs, pickling."""
from __future__ import annotations

import os
import pickle
import uuid

import fsspec
import pytest

from sparkbam_py.channel import (
    ByteSource,
    FsspecSource,
    HttpSource,
    LocalFileSource,
    open_source,
)
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.errors import MissingInputError

DATA = os.urandom(10_000)


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


@pytest.fixture
def memory_url():
    url = f"memory://channel-tests/{uuid.uuid4().hex}/data.bin"
    fsspec.filesystem("memory").pipe_file(url, DATA)
    yield url
    fsspec.filesystem("memory").rm(url)


@pytest.fixture
def http_server(data_file):
    with RangeHTTPServer(data_file.parent) as server:
        yield server


@pytest.fixture(params=["local", "file_url", "memory", "http"])
def source(request, data_file) -> ByteSource:
    if request.param == "local":
        made = open_source(data_file)
    elif request.param == "file_url":
        made = open_source(data_file.as_uri())
    elif request.param == "memory":
        made = open_source(request.getfixturevalue("memory_url"))
    else:
        made = open_source(request.getfixturevalue("http_server").url_for("data.bin"))
    with made:
        yield made


def test_open_source_dispatches_on_scheme(data_file, memory_url):
    assert isinstance(open_source(data_file), LocalFileSource)
    assert isinstance(open_source(str(data_file)), LocalFileSource)
    assert isinstance(open_source(data_file.as_uri()), FsspecSource)
    assert isinstance(open_source(memory_url), FsspecSource)
    assert isinstance(open_source("http://127.0.0.1:1/x.bam"), HttpSource)
    assert isinstance(open_source("https://example.org/x.bam"), HttpSource)


def test_open_source_passes_a_source_through(data_file):
    made = LocalFileSource(data_file)
    assert open_source(made) is made


def test_size(source):
    assert source.size == len(DATA)


@pytest.mark.parametrize(
    "offset, n",
    [(0, 0), (0, 1), (0, 10_000), (123, 4567), (9_990, 10), (9_990, 50), (10_000, 5), (20_000, 5)],
)
def test_read_at_is_exact_and_short_only_at_the_end(source, offset, n):
    assert source.read_at(offset, n) == DATA[offset:offset + n]


def test_negative_ranges_are_refused(source):
    with pytest.raises(ValueError):
        source.read_at(-1, 5)
    with pytest.raises(ValueError):
        source.read_at(0, -5)


def test_missing_local_file_fails_at_open_naming_the_path(tmp_path):
    missing = tmp_path / "absent.bam"
    with pytest.raises(MissingInputError) as caught:
        open_source(missing)
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.path == str(missing)
    assert str(missing) in str(caught.value)


def test_missing_fsspec_file(tmp_path):
    memory_url = f"memory://channel-tests/{uuid.uuid4().hex}.bam"
    for url in (memory_url, (tmp_path / "absent.bam").as_uri()):
        source = open_source(url)
        with pytest.raises(MissingInputError) as caught:
            source.read_at(0, 10)
        assert isinstance(caught.value, FileNotFoundError)
        assert caught.value.path == url


def test_missing_http_file(http_server):
    url = http_server.url_for("absent.bam")
    with pytest.raises(MissingInputError) as caught:
        open_source(url).size
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.path == url
    with pytest.raises(MissingInputError):
        open_source(url).read_at(0, 10)


def test_pickled_source_reopens_and_original_keeps_working(source):
    assert source.read_at(100, 50) == DATA[100:150]  # the original holds an open handle now
    copy = pickle.loads(pickle.dumps(source))
    assert copy.path == source.path
    assert copy.read_at(5_000, 100) == DATA[5_000:5_100]
    assert source.read_at(200, 50) == DATA[200:250]
    copy.close()


def test_close_then_read_reopens(source):
    source.read_at(0, 10)
    source.close()
    assert source.read_at(10, 10) == DATA[10:20]


def test_local_source_is_a_directory(tmp_path):
    with pytest.raises(OSError):
        open_source(tmp_path)
