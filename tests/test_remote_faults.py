"""Reads through a proxy that drops connections, answers 500/503, cuts or shortens bodies and
stalls, in front of HTTP and of S3 (moto): every split's records come back exactly, or the
read fails with an InputIOError naming the URL and byte range.  Never fewer, other or
shifted records, never another exception, never a hang."""
from __future__ import annotations

import dataclasses
import re
import time

import pytest

from sparkbam_py.channel import CachingChannel, HttpSource
from sparkbam_py.testing.fault_proxy import FAULT_KINDS, FaultProxy
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.channel.retry import READ_TIMEOUT_VARIABLE, Backoff
from sparkbam_py.channel.storage import storage_options_applied
from sparkbam_py.errors import InputIOError
from sparkbam_py.bam.splits import SplitReader, plan_file

STALL_SECONDS = 1.5
READ_TIMEOUT = "0.5"
FAULT_RATE = 0.3
SPLIT_SIZE = 24_000
# Per read: the whole run of every split must end well within this (a stall must not hang).
SECONDS_PER_SPLIT = 60
RANGE_IN_MESSAGE = re.compile(r"bytes \d+-\d+")


@pytest.fixture(scope="module")
def bam(bam_fixtures):
    return bam_fixtures["short_reads.mixed"]


def records_of(task):
    with SplitReader(task) as split:
        return [int(v) for chunk in split.iter_chunks() for v in chunk.virtual_offsets()]


def outcomes_under_faults(tasks, url: str, truth) -> dict:
    """Each task read from ``url``: "exact" or "InputIOError"; anything else fails the test."""
    ended = {"exact": 0, "InputIOError": 0}
    for task, expected in zip(tasks, truth):
        started = time.monotonic()
        try:
            got = records_of(dataclasses.replace(task, path=url))
        except InputIOError as error:
            assert error.path == url and RANGE_IN_MESSAGE.search(str(error)) or "size unknown" in str(error), error
            ended["InputIOError"] += 1
        else:
            assert got == expected, "a read under faults returned other records"
            ended["exact"] += 1
        assert time.monotonic() - started < SECONDS_PER_SPLIT
    return ended


@pytest.fixture
def fast_timeout(monkeypatch):
    monkeypatch.setenv(READ_TIMEOUT_VARIABLE, READ_TIMEOUT)


@pytest.mark.slow
@pytest.mark.parametrize("kind", FAULT_KINDS + ("mixed",))
def test_http_reads_under_faults_are_exact_or_typed(bam, kind, fast_timeout):
    _, tasks = plan_file(str(bam.path), SPLIT_SIZE)
    truth = [records_of(task) for task in tasks]
    rates = {k: FAULT_RATE / len(FAULT_KINDS) for k in FAULT_KINDS} if kind == "mixed" else {kind: FAULT_RATE}
    with RangeHTTPServer(bam.path.parent) as server, \
            FaultProxy(server.url_for("").rstrip("/"), rates, seed=11, stall_seconds=STALL_SECONDS) as proxy:
        ended = outcomes_under_faults(tasks, f"{proxy.url}/{bam.path.name}", truth)
        counts = proxy.counts
    assert sum(ended.values()) == len(tasks) and ended["exact"] >= 1, ended
    assert sum(counts.get(k, 0) for k in FAULT_KINDS) >= 1, counts  # faults were really injected


def test_a_shifted_range_answer_is_refused(bam):
    """A server answering 206 for another range than asked must not be believed."""

    class Shifting(HttpSource):
        def _request(self, method, headers, offset=None):
            status, answer, body = super()._request(method, {"Range": "bytes=1-100"} if headers else headers, offset)
            return status, answer, body

    with RangeHTTPServer(bam.path.parent) as server:
        source = Shifting(server.url_for(bam.path.name), timeout=5)
        with pytest.raises(InputIOError, match="Content-Range"):
            source.read_at(0, 100)


def test_retries_back_off_and_give_up_naming_the_range(bam):
    with RangeHTTPServer(bam.path.parent) as server, \
            FaultProxy(server.url_for("").rstrip("/"), {"503": 1.0}) as proxy:
        url = f"{proxy.url}/{bam.path.name}"
        channel = CachingChannel(HttpSource(url, timeout=5), max_attempts=4, size=bam.file_size,
                                 backoff=Backoff(first_delay=0.05, max_delay=0.2))
        started = time.monotonic()
        with pytest.raises(InputIOError) as caught:
            channel.read_at(70_000, 10)
        elapsed = time.monotonic() - started
    assert f"bytes 65536-{65536 + 65536 - 1}" in str(caught.value) and "503" in str(caught.value)
    assert caught.value.path == url and channel.stats.failures == 4
    assert 0.05 * 0.5 * (1 + 2 + 4) <= elapsed < 10  # three backoff sleeps, none skipped


# -- S3 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_bam(bam):
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    from sparkbam_py.testing.moto_s3 import MotoS3

    with MotoS3() as s3:
        s3.create_bucket("faulty")
        yield s3, s3.upload("faulty", "x.bam", bam.path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mixed", "stall"])  # each kind alone: bench/bench_remote.py
def test_s3_reads_under_faults_are_exact_or_typed(bam, s3_bam, kind):
    s3, url = s3_bam
    _, tasks = plan_file(str(bam.path), SPLIT_SIZE)
    truth = [records_of(task) for task in tasks]
    rates = {k: FAULT_RATE / len(FAULT_KINDS) for k in FAULT_KINDS} if kind == "mixed" else {kind: FAULT_RATE}
    with FaultProxy(s3.endpoint_url, rates, seed=5, stall_seconds=STALL_SECONDS) as proxy:
        # botocore's own retries off and a short read timeout: the channel's retries are under test.
        options = dict(s3.storage_options, endpoint_url=proxy.url,
                       config_kwargs={"read_timeout": float(READ_TIMEOUT), "connect_timeout": 1,
                                      "retries": {"max_attempts": 1, "mode": "standard"}})
        with storage_options_applied(options, [url]):
            ended = outcomes_under_faults(tasks, url, truth)
        counts = proxy.counts
    assert sum(ended.values()) == len(tasks) and ended["exact"] >= 1, ended
    assert sum(counts.get(k, 0) for k in FAULT_KINDS) >= 1, counts
