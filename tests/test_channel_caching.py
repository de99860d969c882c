"""CachingChannel: exact reads on every backend, page cache and stats, retries, pickling."""
from __future__ import annotations

import os
import pickle
import uuid

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkbam_py.channel import ByteSource, CachingChannel, ChannelStats, open_channel
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.config import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE, DEFAULT_READ_ATTEMPTS
from sparkbam_py.errors import ConfigError, InputIOError, TruncatedError

PAGE = 1_000
DATA = os.urandom(10 * PAGE + 337)  # a short last page


class MemorySource(ByteSource):
    """Bytes in memory that answer at most ``chunk_limits[i]`` bytes on the i-th call."""

    def __init__(self, data: bytes, chunk_limits=(), path: str = "mem:flaky"):
        self.path = path
        self.data = data
        self.chunk_limits = list(chunk_limits)
        self.calls = 0
        self.size_calls = 0

    @property
    def size(self) -> int:
        self.size_calls += 1
        return len(self.data)

    def read_at(self, offset: int, n: int) -> bytes:
        limit = self.chunk_limits[self.calls] if self.calls < len(self.chunk_limits) else n
        self.calls += 1
        return self.data[offset:offset + min(n, limit)]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("channel")
    (directory / "data.bin").write_bytes(DATA)
    return directory


@pytest.fixture(scope="module", params=["local", "file_url", "memory", "http"])
def backend_path(request, data_dir):
    if request.param == "local":
        yield str(data_dir / "data.bin")
    elif request.param == "file_url":
        yield (data_dir / "data.bin").as_uri()
    elif request.param == "memory":
        url = f"memory://channel-tests/{uuid.uuid4().hex}/data.bin"
        fsspec.filesystem("memory").pipe_file(url, DATA)
        yield url
        fsspec.filesystem("memory").rm(url)
    else:
        with RangeHTTPServer(data_dir) as server:
            yield server.url_for("data.bin")


@pytest.fixture(scope="module")
def channel(backend_path):
    # Small pages and a three-page cache, so random reads span pages and evict.
    with CachingChannel(backend_path, page_size=PAGE, cache_bytes=3 * PAGE) as opened:
        yield opened


offsets = st.integers(min_value=0, max_value=len(DATA) + 2 * PAGE)
lengths = st.integers(min_value=0, max_value=5 * PAGE)


@settings(max_examples=60, deadline=None)
@given(offset=offsets, n=lengths)
def test_random_reads_are_byte_exact(channel, offset, n):
    assert channel.read_at(offset, n) == DATA[offset:offset + n]


@pytest.mark.parametrize(
    "offset, n",
    [
        (0, 0), (999, 2), (PAGE, PAGE), (500, 2 * PAGE),
        (len(DATA) - 10, 100), (len(DATA), 1), (len(DATA) + 5, 1),
    ],
)
def test_edge_reads(channel, offset, n):
    assert channel.read_at(offset, n) == DATA[offset:offset + n]


def test_size_is_asked_once(backend_path):
    source = MemorySource(DATA)
    with CachingChannel(source, page_size=PAGE) as opened:
        assert opened.size == len(DATA)
        opened.read_at(0, 10)
        opened.read_at(5 * PAGE, 10)
        assert opened.size == len(DATA)
    assert source.size_calls == 1
    assert CachingChannel(backend_path).size == len(DATA)


def test_defaults_come_from_config(backend_path):
    opened = open_channel(backend_path)
    assert (opened.page_size, opened.cache_bytes, opened.max_attempts) == (
        DEFAULT_PAGE_SIZE, DEFAULT_CACHE_BYTES, DEFAULT_READ_ATTEMPTS)
    assert opened.path == backend_path


def test_second_read_of_a_page_is_a_hit():
    opened = CachingChannel(MemorySource(DATA), page_size=PAGE, cache_bytes=4 * PAGE)
    assert opened.read_at(10, 20) == DATA[10:30]
    assert opened.stats == ChannelStats(requests=1, bytes_fetched=PAGE, hits=0, misses=1)
    assert opened.read_at(500, 100) == DATA[500:600]
    assert opened.stats == ChannelStats(requests=1, bytes_fetched=PAGE, hits=1, misses=1)
    opened.reset_stats()
    assert opened.stats == ChannelStats()


def test_page_spanning_read_counts_each_page_and_fetches_a_missing_run_at_once():
    opened = CachingChannel(MemorySource(DATA), page_size=PAGE, cache_bytes=4 * PAGE)
    assert opened.read_at(PAGE - 1, PAGE + 2) == DATA[PAGE - 1:2 * PAGE + 1]  # pages 0, 1, 2
    assert (opened.stats.requests, opened.stats.misses, opened.stats.hits) == (1, 3, 0)
    assert opened.read_at(2 * PAGE - 5, 10) == DATA[2 * PAGE - 5:2 * PAGE + 5]
    assert (opened.stats.requests, opened.stats.misses, opened.stats.hits) == (1, 3, 2)


def test_only_the_missing_runs_are_fetched():
    opened = CachingChannel(MemorySource(DATA), page_size=PAGE, cache_bytes=8 * PAGE)
    opened.read_at(PAGE, 1)  # page 1 cached
    opened.reset_stats()
    assert opened.read_at(0, 4 * PAGE) == DATA[: 4 * PAGE]  # pages 0 and 2-3 missing: two runs
    assert (opened.stats.requests, opened.stats.misses, opened.stats.hits) == (2, 3, 1)
    assert opened.stats.bytes_fetched == 3 * PAGE


def test_lru_evicts_the_least_recently_used_page():
    source = MemorySource(DATA)
    opened = CachingChannel(source, page_size=PAGE, cache_bytes=2 * PAGE)
    opened.read_at(0, 1)  # page 0
    opened.read_at(PAGE, 1)  # page 1
    opened.read_at(0, 1)  # page 0 again: now page 1 is the eldest
    opened.read_at(2 * PAGE, 1)  # page 2 evicts page 1
    assert opened.cached_pages == 2
    calls = source.calls
    opened.read_at(0, 1)
    assert source.calls == calls  # page 0 survived
    opened.read_at(PAGE, 1)
    assert source.calls == calls + 1  # page 1 did not


def test_short_last_page_counts_its_real_size():
    data = DATA[: 2 * PAGE + 50]
    source = MemorySource(data)
    opened = CachingChannel(source, page_size=PAGE, cache_bytes=PAGE + 50)
    opened.read_at(2 * PAGE, 10)  # the 50-byte last page
    opened.read_at(0, 10)  # a full page: both fit in PAGE + 50 bytes
    assert opened.cached_pages == 2
    assert opened.read_at(2 * PAGE + 40, 100) == data[2 * PAGE + 40:]
    assert source.calls == 2


def test_read_larger_than_the_cache():
    source = MemorySource(DATA)
    opened = CachingChannel(source, page_size=PAGE, cache_bytes=2 * PAGE)
    opened.read_at(0, 1)
    assert opened.read_at(100, 8 * PAGE) == DATA[100:100 + 8 * PAGE]
    assert opened.read_at(0, len(DATA) + 1) == DATA
    assert opened.cached_pages == 1  # the big reads bypassed the cache instead of flushing it


def test_zero_cache_bytes_disables_caching():
    source = MemorySource(DATA)
    opened = CachingChannel(source, page_size=PAGE, cache_bytes=0)
    assert opened.read_at(10, 10) == DATA[10:20]
    assert opened.read_at(10, 10) == DATA[10:20]
    assert source.calls == 2 and opened.cached_pages == 0


def test_short_reads_are_retried_within_max_attempts():
    source = MemorySource(DATA, chunk_limits=[300, 0])  # then the rest in one go
    opened = CachingChannel(source, page_size=PAGE, max_attempts=3)
    assert opened.read_at(0, 50) == DATA[:50]
    assert opened.stats.requests == 3 and opened.stats.bytes_fetched == PAGE
    assert opened.read_at(PAGE + 10, 20) == DATA[PAGE + 10:PAGE + 30]


def test_short_reads_beyond_max_attempts_raise_with_path_and_offset():
    source = MemorySource(DATA, chunk_limits=[100, 100, 100, 100], path="mem:stingy")
    opened = CachingChannel(source, page_size=PAGE, max_attempts=3)
    with pytest.raises(InputIOError) as caught:
        opened.read_at(2 * PAGE + 10, 5)
    error = caught.value
    assert isinstance(error, OSError)
    assert (error.path, error.where) == ("mem:stingy", 2 * PAGE)
    assert "read 300 of 1000 bytes in 3 attempts" in str(error)
    assert source.calls == 3


def test_read_fully_past_the_end_is_truncation():
    opened = CachingChannel(MemorySource(DATA, path="mem:short"), page_size=PAGE)
    assert opened.read_fully(0, 36, "record bytes") == DATA[:36]
    with pytest.raises(TruncatedError) as caught:
        opened.read_fully(len(DATA) - 10, 36, "record bytes")
    assert isinstance(caught.value, EOFError)
    assert (caught.value.path, caught.value.where) == ("mem:short", len(DATA) - 10)
    assert "needed 36 record bytes, only 10 before end of file" in str(caught.value)


def test_pickled_copy_starts_fresh_and_the_original_keeps_working(backend_path):
    original = CachingChannel(backend_path, page_size=PAGE, cache_bytes=4 * PAGE)
    assert original.read_at(PAGE - 5, 10) == DATA[PAGE - 5:PAGE + 5]
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.path, copy.page_size, copy.cache_bytes) == (backend_path, PAGE, 4 * PAGE)
    assert copy.stats == ChannelStats() and copy.cached_pages == 0
    assert copy.read_at(3 * PAGE, 2 * PAGE) == DATA[3 * PAGE:5 * PAGE]
    requests = original.stats.requests
    assert original.read_at(PAGE - 5, 10) == DATA[PAGE - 5:PAGE + 5]
    assert original.stats.requests == requests  # its cache survived the pickling
    assert original.read_at(7 * PAGE, 10) == DATA[7 * PAGE:7 * PAGE + 10]
    copy.close()
    original.close()


def test_pickling_before_any_read(backend_path):
    copy = pickle.loads(pickle.dumps(open_channel(backend_path, page_size=PAGE)))
    assert copy.read_at(0, len(DATA)) == DATA


def test_close_drops_the_cache_and_reads_reopen(data_dir):
    opened = CachingChannel(data_dir / "data.bin", page_size=PAGE)
    with opened:
        opened.read_at(0, 10)
    assert opened.cached_pages == 0
    assert opened.read_at(0, 10) == DATA[:10]


@pytest.mark.parametrize(
    "config",
    [
        {"page_size": 0}, {"page_size": -1}, {"page_size": 1.5},
        {"cache_bytes": -1}, {"max_attempts": 0},
    ],
)
def test_bad_config_is_refused(config):
    with pytest.raises(ConfigError):
        CachingChannel(MemorySource(DATA), **config)


def test_negative_offsets_are_refused():
    with pytest.raises(ValueError):
        CachingChannel(MemorySource(DATA)).read_at(-1, 1)
