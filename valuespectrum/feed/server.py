"""Serve a Feed over HTTP from a background thread: uvicorn on 127.0.0.1, a free port.

The feed has no authentication, so it binds the loopback address only: any other host is
refused unless ``allow_non_loopback=True`` says that exposing it is meant. The socket is bound
here, before uvicorn starts, so ``port=0`` yields the port actually bound and ``url`` is right
the moment ``start`` returns. ``stop`` (or leaving the ``with`` block) shuts uvicorn down and
joins its thread; nothing keeps running after it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType

from valuespectrum.feed.app import LOOPBACK_HOSTS, MAX_BODY_BYTES, create_app
from valuespectrum.feed.session import Feed

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class FeedServer:
    """``with FeedServer(feed) as server: ... server.url ...`` (context manager)."""

    def __init__(
        self, feed: Feed, host: str = LOOPBACK, port: int = 0, *,
        allow_non_loopback: bool = False, max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if host != LOOPBACK and not allow_non_loopback:
            raise ValueError(
                f"the local feed binds {LOOPBACK} only (got host={host!r}): it has no "
                "authentication; pass allow_non_loopback=True to serve it on another address"
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (a free port) or 1..65535, got {port}")
        self.feed = feed
        self.host = host
        self.port = port
        self.allow_non_loopback = allow_non_loopback
        self.max_body_bytes = max_body_bytes
        self.url: str | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    def start(self) -> FeedServer:
        """Bind, start uvicorn in a thread, and return once it accepts connections."""
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("this FeedServer is already started")
        hosts = ["*"] if self.allow_non_loopback else list(LOOPBACK_HOSTS)
        app = create_app(self.feed, max_body_bytes=self.max_body_bytes, allowed_hosts=hosts)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot bind the feed to {self.host}:{self.port} ({exc}); "
                          "use port=0 for a free port") from exc
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            proxy_headers=False, server_header=False, timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"feed-server-{self.port}",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the feed server did not start: {self._error!r}")
            time.sleep(0.005)
        shown = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self.url = f"http://{shown}:{self.port}"
        log.info("local feed at %s", self.url)
        return self

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start(); a thread must not die silently
            self._error = exc

    def stop(self) -> None:
        """Shut uvicorn down and join its thread (idempotent)."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():  # connections that did not close in time
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError("the feed server thread did not stop")
        self._thread = self._socket = self._server = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
