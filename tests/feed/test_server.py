"""The loopback server: 127.0.0.1 only, a free port, the real HTTP stack, a clean stop."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from pathlib import Path

import pytest

from tests.feed.conftest import synthetic_catalog
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.app import MAX_BODY_BYTES
from valuespectrum.feed.server import FeedServer
from valuespectrum.feed.session import Feed


@pytest.fixture
def feed(tmp_path) -> Feed:
    return Feed(synthetic_catalog(2, image_dir=tmp_path), RecommenderConfig())


def _listening(port: int) -> list[str]:
    """Local addresses listening on ``port``, from the kernel's own table (Linux)."""
    out = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                out.append(addr if len(addr) == width else "?")
    return out


def _request(server: FeedServer, method: str, path: str, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.read()  # an iterable body goes chunked, without Content-Length
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "::", "::1", "192.168.1.10", ""])
def test_a_non_loopback_host_is_refused(feed, host) -> None:
    with pytest.raises(ValueError, match=r"binds 127\.0\.0\.1 only.*allow_non_loopback=True"):
        FeedServer(feed, host=host)


def test_binds_127_0_0_1_on_a_free_port_and_stops_cleanly(feed) -> None:
    before = set(threading.enumerate())
    with FeedServer(feed) as a, FeedServer(feed) as b:
        assert a.url == f"http://127.0.0.1:{a.port}" and a.port != b.port and a.port > 0
        if Path("/proc/net/tcp").exists():
            assert _listening(a.port) == ["0100007F"]  # 127.0.0.1, and nothing else
        status, body = _request(a, "POST", "/api/sessions",
                                json.dumps({"session_id": "s", "seed": 1}),
                                {"content-type": "application/json"})
        assert status == 201
        status, body = _request(a, "GET", "/api/sessions/s/next")
        assert status == 200 and json.loads(body)["position"] == 0
        port = a.port
    # no thread left behind: uvicorn's threads end with the server; AnyIO's idle worker threads
    # (sync endpoints) end by themselves within their 10 s idle timeout
    for t in set(threading.enumerate()) - before:
        t.join(timeout=15)
    assert set(threading.enumerate()) == before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_oversized_bodies_are_refused_by_the_real_server(feed) -> None:
    with FeedServer(feed) as server:
        headers = {"content-type": "application/json"}
        status, _ = _request(server, "POST", "/api/sessions", b"x" * (MAX_BODY_BYTES + 1),
                             headers)
        assert status == 413
        # chunked, no Content-Length: refused once the bytes read pass the limit. The server
        # answers 413 and closes while the client may still be sending; on a busy machine the
        # client then sees the connection reset before it reads the answer: refused either way.
        chunks = (b"x" * 1024 for _ in range(MAX_BODY_BYTES // 1024 + 2))
        try:
            status, _ = _request(server, "POST", "/api/sessions", chunks, headers)
        except (ConnectionResetError, BrokenPipeError):
            status = 413
        assert status == 413
        # a Content-Length that promises more than the limit is refused before reading
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.putrequest("POST", "/api/sessions")
        conn.putheader("content-type", "application/json")
        conn.putheader("content-length", str(10**9))
        conn.endheaders()
        assert conn.getresponse().status == 413
        conn.close()
        assert feed.session_ids() == []


def test_a_port_in_use_is_said_in_one_line(feed) -> None:
    with FeedServer(feed) as server, pytest.raises(OSError, match="use port=0"):
        FeedServer(feed, port=server.port).start()
