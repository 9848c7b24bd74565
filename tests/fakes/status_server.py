"""A loopback HTTP server that answers every request with a fixed body and a status (fixed, or
chosen per method and path).

Stands in for an MLflow tracking server or the Hugging Face hub where a test only needs to know
how a client reacts to "healthy", "not found" or "failing" answers. It binds 127.0.0.1 port 0,
serves from daemon threads, records each request's method and path, and runs an optional
``on_request`` hook inside the handler (e.g. to look at a lock while the client waits).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class StatusServer:
    def __init__(
        self,
        status: int | Callable[[str, str], int] = 200,
        body: Any = None,
        *,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self.status = status
        self.body = b"" if body is None else json.dumps(body).encode()
        self.on_request = on_request
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


def _handler(fake: StatusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fake.requests.append((self.command, self.path))
            if fake.on_request is not None:
                fake.on_request(self.command, self.path)
            code = fake.status(self.command, self.path) if callable(fake.status) else fake.status
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(fake.body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler
