"""A scriptable loopback OpenAI-compatible chat server for tests and benchmarks.

Real clients (litellm → openai SDK → httpx) talk to it over a real socket, so a test checks the
whole path a probe takes: the JSON a provider would receive (images as base64 data URLs), the
headers (Authorization), status codes with ``Retry-After``, slow answers and hung connections.
What the server answers is chosen per request by a *script*: a callable
``(request_json, call_index) -> Action`` or a sequence of actions served in order and then
cycled (``tests.fakes.fault_plan.FaultPlan`` is a script with deterministic per-image faults).

The server binds 127.0.0.1 port 0, serves from daemon threads, and ``stop()`` wakes every sleeping
handler and closes every open connection, so nothing outlives the test that started it.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

REFUSAL_TEXT = "I'm sorry, but I can't help with that."
# An API key for tests that must never show up anywhere but the Authorization header received.
CANARY_KEY = "sk-canary-7f3e9d0c1b2a"
# Words with no "yes"/"no" inside, so garbage can never be parsed as an answer by accident.
_GARBAGE_WORDS = (
    "lorem", "ipsum", "dolor", "amet", "purple", "vector", "marmalade", "quartz", "zephyr",
    "42", "#", "~~", "banana", "flux", "spiral", "teapot", "glyph", "ember",
)


def _parts(body: dict[str, Any], roles: tuple[str, ...] = ("system", "user", "assistant")
           ) -> list[Any]:
    """Content parts of ``body``'s messages in order, strings standing for text-only turns."""
    out: list[Any] = []
    for msg in body.get("messages", []):
        if msg.get("role") not in roles:
            continue
        content = msg.get("content")
        out.extend([content] if isinstance(content, str) else content or [])
    return out


def request_images(body: dict[str, Any]) -> list[bytes]:
    """Decoded bytes of every ``data:`` image URL in a chat request, in order."""
    images = []
    for part in _parts(body):
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = part["image_url"]["url"]
            images.append(base64.b64decode(url.split(",", 1)[1]))
    return images


def request_texts(body: dict[str, Any], roles: tuple[str, ...] = ("system", "user", "assistant")
                  ) -> list[str]:
    """Every text part of a chat request, in order."""
    return [p if isinstance(p, str) else p["text"] for p in _parts(body, roles)
            if isinstance(p, str) or p.get("type") == "text"]


@dataclass(frozen=True)
class RecordedRequest:
    """One chat request as the server saw it (headers lower-cased)."""

    index: int
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float

    def images(self) -> list[bytes]:
        return request_images(self.body)

    def texts(self) -> list[str]:
        return request_texts(self.body)


@dataclass(frozen=True)
class Action:
    """What the server does with one request; build it with the helpers below."""

    kind: Literal["reply", "status", "hang"]
    text: str | None = ""  # None sends ``"content": null``
    no_choices: bool = False  # send ``"choices": []``, as some gateways do on a filtered answer
    # Top log-probabilities of the first generated token, e.g. {"Yes": -0.1, "No": -2.4}.
    logprobs: dict[str, float] | None = None
    status: int = 200
    retry_after: float | str | None = None
    message: str = ""
    echo_auth: bool = False
    hang_s: float = 0.0
    latency_s: float | None = None  # overrides the server-wide latency for this request


def reply(text: str | None, logprobs: dict[str, float] | None = None, **kw: Any) -> Action:
    """A normal chat completion with ``text`` (and first-token top logprobs when asked)."""
    return Action("reply", text=text, logprobs=logprobs, **kw)


def refuse(**kw: Any) -> Action:
    """A completion in which the model declines, as safety-tuned models do."""
    return Action("reply", text=REFUSAL_TEXT, **kw)


def garbage(seed: int = 0, **kw: Any) -> Action:
    """A completion that is neither an answer nor a refusal (deterministic for ``seed``)."""
    rng = random.Random(seed)
    return Action("reply", text=" ".join(rng.choices(_GARBAGE_WORDS, k=6)), **kw)


def status(
    code: int,
    retry_after: float | str | None = None,
    message: str = "",
    echo_auth: bool = False,
) -> Action:
    """An HTTP error with an OpenAI-style error body.

    ``retry_after`` goes into ``Retry-After`` verbatim (seconds, or an HTTP-date string).
    ``echo_auth`` copies the Authorization header into the error message, as some providers do,
    to check that the client redacts the key before it is logged or stored.
    """
    return Action("status", status=code, retry_after=retry_after, message=message,
                  echo_auth=echo_auth)


def hang(seconds: float) -> Action:
    """Read the request, say nothing for ``seconds`` (longer than the client timeout), close."""
    return Action("hang", hang_s=seconds)


Script = Callable[[dict[str, Any], int], Action]


def _as_script(script: Script | Sequence[Action] | None) -> Script:
    """Turn a sequence of actions into a thread-safe script that cycles through them."""
    if script is None:
        return lambda _body, _i: reply("Yes")
    if callable(script):
        return script
    actions = list(script)
    if not actions:
        raise ValueError("script needs at least one action")
    return lambda _body, i: actions[i % len(actions)]


class FakeOpenAIServer:
    """Loopback ``POST /v1/chat/completions`` that records requests and follows a script.

    Use as a context manager (or ``start()``/``stop()``); ``base_url`` is what a client takes as
    ``api_base``. ``latency_s`` delays every answer without blocking other requests, and
    ``max_in_flight`` reports the highest number of requests being handled at once, which is how
    a test checks a client's concurrency cap.
    """

    def __init__(
        self,
        script: Script | Sequence[Action] | None = None,
        *,
        latency_s: float = 0.0,
        model: str = "fake-vlm-2024-01-01",
    ) -> None:
        self._script = _as_script(script)
        self.latency_s = latency_s
        self.model = model
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._counter = itertools.count()
        self._in_flight = 0
        self.max_in_flight = 0
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None

    @property
    def script(self) -> Script:
        return self._script

    @script.setter
    def script(self, script: Script | Sequence[Action] | None) -> None:
        """Re-script a running server (the fixture starts one before the test picks a script)."""
        self._script = _as_script(script)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", 0), handler, self)
        self._serve_thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-openai-server", daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self, join_timeout_s: float = 2.0) -> None:
        """Stop accepting, wake sleeping handlers, close open connections, join (bounded)."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        deadline = time.monotonic() + join_timeout_s
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if self._serve_thread is not None:
            self._serve_thread.join(join_timeout_s)
        self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every chat request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    # -- used by the handler ---------------------------------------------------------------
    def _begin(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> RecordedRequest:
        with self._lock:
            rec = RecordedRequest(next(self._counter), path, headers, body, time.monotonic())
            self._requests.append(rec)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        return rec

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when it was stopped."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            thread = threading.current_thread()
            if add:
                self._sockets.add(sock)
                self._threads.add(thread)
            else:
                self._sockets.discard(sock)
                self._threads.discard(thread)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The default listen backlog of 5 drops SYNs when 32+ clients connect at once; the kernel
    # then retransmits after 1 s, a stall a benchmark would blame on the client.
    request_queue_size = 1024

    def __init__(self, addr: tuple[str, int], handler: type, fake: FakeOpenAIServer) -> None:
        self.fake = fake
        super().__init__(addr, handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.fake._track(request, add=True)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.fake._track(request, add=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do; the client pools connections
    timeout = 10  # idle keep-alive connections give up on their own
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK adds
    # ~40 ms to every answer, which would swamp the latency a benchmark sets.
    disable_nagle_algorithm = True
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; tests read ``requests`` instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "nf"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid"}})
            return
        rec = self.fake._begin(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        try:
            self._act(self.fake.script(body, rec.index), rec)
        finally:
            self.fake._end()

    def _act(self, action: Action, rec: RecordedRequest) -> None:
        latency = self.fake.latency_s if action.latency_s is None else action.latency_s
        if self.fake._sleep(latency):
            self.close_connection = True
            return
        if action.kind == "hang":
            self.fake._sleep(action.hang_s)
            self.close_connection = True
            return
        if action.kind == "status":
            message = action.message or f"scripted status {action.status}"
            if action.echo_auth:
                message += f" (received {rec.headers.get('authorization', '')})"
            headers = {} if action.retry_after is None else {"Retry-After": str(action.retry_after)}
            error = {"message": message, "type": "scripted_error", "code": str(action.status)}
            self._send_json(action.status, {"error": error}, headers)
            return
        self._send_json(200, completion_json(action, rec, self.fake.model))

    def _send_json(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
                   ) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (timeout) before we answered


def completion_json(action: Action, rec: RecordedRequest, model: str) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` object for a scripted reply."""
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": action.text},
        "finish_reason": "stop",
        "logprobs": None,
    }
    if rec.body.get("logprobs") and action.logprobs:
        choice["logprobs"] = {"content": [_first_token(action.logprobs,
                                                       rec.body.get("top_logprobs") or 5)]}
    completion_tokens = len((action.text or "").split())
    prompt_tokens = sum(len(t.split()) for t in rec.texts()) + 85 * len(rec.images())
    return {
        "id": f"chatcmpl-fake-{rec.index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [] if action.no_choices else [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _first_token(logprobs: dict[str, float], top_n: int) -> dict[str, Any]:
    ranked = sorted(logprobs.items(), key=lambda kv: kv[1], reverse=True)[: max(1, top_n)]

    def entry(token: str, lp: float) -> dict[str, Any]:
        return {"token": token, "logprob": lp, "bytes": list(token.encode())}

    return {**entry(*ranked[0]), "top_logprobs": [entry(t, lp) for t, lp in ranked]}


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """A running fake server that answers "Yes"; set ``.script`` / ``.latency_s`` to change it.

    Import it into a conftest (``from tests.fakes.openai_server import fake_openai_server``).
    """
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
