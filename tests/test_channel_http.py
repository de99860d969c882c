"""The loopback Range server, and HttpSource against its variants."""
from __future__ import annotations

import http.client
import logging
import os
import time

import pytest

from sparkbam_py.channel import CachingChannel, HttpSource
from sparkbam_py.serve.range_header import parse_range
from sparkbam_py.testing.http_server import RangeHTTPServer

DATA = os.urandom(5_000)


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "data.bin").write_bytes(DATA)
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "odd name.bin").write_bytes(DATA[:100])
    return tmp_path


def fetch(server, method, name, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, "/" + name, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None), ("bytes=0-9", (0, 10)), ("bytes=10-", (10, 100)), ("bytes=-5", (95, 100)),
        ("bytes=90-200", (90, 100)), ("bytes=100-", (100, 100)), ("bytes=5-3", None),
        ("bytes=0-1,5-6", None), ("items=0-1", None), ("bytes=-", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


def test_server_answers_ranges_heads_and_missing_files(data_dir):
    with RangeHTTPServer(data_dir) as server:
        status, headers, body = fetch(server, "GET", "data.bin", {"Range": "bytes=100-199"})
        assert (status, body) == (206, DATA[100:200])
        assert headers["Content-Range"] == "bytes 100-199/5000"
        status, headers, body = fetch(server, "HEAD", "data.bin")
        assert (status, headers["Content-Length"], body) == (200, "5000", b"")
        assert fetch(server, "GET", "data.bin")[2] == DATA
        assert fetch(server, "GET", "data.bin", {"Range": "bytes=6000-"})[0] == 416
        assert fetch(server, "GET", "absent.bin")[0] == 404
        assert fetch(server, "GET", "odd%20name.bin")[2] == DATA[:100]
        assert server.request_count == 6


def test_server_refuses_paths_outside_its_directory(data_dir):
    public = data_dir / "public"
    public.mkdir()
    (public / "inside.bin").write_bytes(b"x")
    with RangeHTTPServer(public) as server:
        assert fetch(server, "GET", "inside.bin")[0] == 200
        assert fetch(server, "GET", "../data.bin")[0] == 404
        assert fetch(server, "GET", "%2E%2E/data.bin")[0] == 404


def test_server_keeps_connections_alive(data_dir):
    with RangeHTTPServer(data_dir) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for start in (0, 1_000, 2_000):
            conn.request("GET", "/data.bin", headers={"Range": f"bytes={start}-{start + 9}"})
            assert conn.getresponse().read() == DATA[start:start + 10]
        assert conn.sock is not None  # the same socket served all three
        conn.close()


def test_source_reads_through_a_delayed_server(data_dir):
    with RangeHTTPServer(data_dir, delay=0.01) as server:
        source = HttpSource(server.url_for("data.bin"))
        assert source.size == len(DATA)
        assert source.read_at(4_990, 100) == DATA[4_990:]
        assert source.read_at(5_000, 10) == b""
        assert server.request_count == 3
        source.close()


def test_size_of_an_empty_file(data_dir):
    with RangeHTTPServer(data_dir) as server:
        assert HttpSource(server.url_for("empty.bin")).size == 0


def test_server_ignoring_range_still_gives_correct_bytes(data_dir, caplog):
    with RangeHTTPServer(data_dir, ignore_range=True) as server:
        source = HttpSource(server.url_for("data.bin"))
        with caplog.at_level(logging.WARNING, logger="sparkbam_py.channel.sources"):
            assert source.read_at(1_234, 100) == DATA[1_234:1_334]
        assert source.ignores_range
        assert "ignores Range" in caplog.text
        with CachingChannel(source, page_size=1_000) as channel:
            assert channel.read_at(900, 3_000) == DATA[900:3_900]
            assert channel.read_at(4_999, 10) == DATA[4_999:]


def test_source_reconnects_after_the_server_drops_an_idle_connection(data_dir):
    with RangeHTTPServer(data_dir, idle_timeout=0.05) as server:
        source = HttpSource(server.url_for("data.bin"))
        assert source.read_at(0, 10) == DATA[:10]
        time.sleep(0.3)  # let the server time the kept-alive connection out
        assert source.read_at(10, 10) == DATA[10:20]
        source.close()


def test_unreachable_server_is_an_input_error(data_dir):
    from sparkbam_py.errors import InputIOError

    with RangeHTTPServer(data_dir) as server:
        url = server.url_for("data.bin")
    with pytest.raises(InputIOError) as caught:
        HttpSource(url, timeout=5).read_at(0, 10)
    assert caught.value.path == url and caught.value.where == 0
