"""A loopback server that answers as OpenAI, Anthropic, Gemini and DashScope do, and records
every request, so a test sees the exact JSON the real litellm client sends to each provider.

Routes (the paths litellm builds from an ``api_base`` override): ``.../chat/completions``
(OpenAI and DashScope's compatible mode), ``.../v1/messages`` (Anthropic) and
``.../models/<id>:generateContent`` (Gemini). Each answers "Yes" in its provider's own response
shape with a token count. It binds 127.0.0.1 port 0; ``stop()`` (or leaving the ``with``) shuts
it down and joins its thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

ANSWER = "Yes"
PROMPT_TOKENS, COMPLETION_TOKENS = 1200, 3


@dataclass(frozen=True)
class Captured:
    """One request as received: path without query, query parameters, headers (lower-case)."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]


def provider_reply(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The provider-shaped answer for a request to ``path``."""
    if path.endswith("/messages"):
        return {"id": "msg_fake", "type": "message", "role": "assistant",
                "model": body.get("model"), "content": [{"type": "text", "text": ANSWER}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": COMPLETION_TOKENS}}
    if ":generateContent" in path:
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": ANSWER}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": PROMPT_TOKENS,
                                  "candidatesTokenCount": COMPLETION_TOKENS,
                                  "totalTokenCount": PROMPT_TOKENS + COMPLETION_TOKENS},
                "modelVersion": path.rsplit("/", 1)[-1].split(":")[0]}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
            "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                      "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}}


class ProviderServer:
    """Records requests and answers in the shape of the provider each path belongs to."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProviderServer:
        server = self
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Silent: tests read ``requests``."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                body = json.loads(raw or b"{}")
                with server._lock:
                    server.requests.append(Captured(
                        url.path, parse_qs(url.query),
                        {k.lower(): v for k, v in self.headers.items()}, body))
                data = json.dumps(provider_reply(url.path, body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(2.0)
            self._httpd = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    """A running provider-shaped capture server (import it into a conftest or test module)."""
    with ProviderServer() as server:
        yield server
