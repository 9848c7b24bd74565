"""A plain HTTP/1.1 keep-alive chat-completions server, for client-side benchmarks.

One asyncio loop in a process of its own, so that serving costs the client nothing but the
socket: each connection reads a request (``Content-Length`` body, never parsed as JSON), waits
``latency_s`` without blocking other connections, and answers one fixed ``chat.completion``.
It can keep the raw bodies it received, which is how a benchmark replays exactly the calls a
probe made through other clients. Binds 127.0.0.1 port 0.

    server = LoopbackAPI(latency_s=0.2).start()   # a spawned child process
    server.base_url; server.record(True); ...; bodies = server.bodies(); server.stop()
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import socket
import time
from multiprocessing.connection import Connection


def completion_body(model: str) -> bytes:
    """A fixed OpenAI ``chat.completion`` that answers "Yes."."""
    return json.dumps({
        "id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()),
        "model": model, "system_fingerprint": "fp_loopback",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": "Yes."}}],
        "usage": {"prompt_tokens": 850, "completion_tokens": 2, "total_tokens": 852},
    }).encode()


class _State:
    def __init__(self, latency_s: float, model: str) -> None:
        self.latency_s = latency_s
        body = completion_body(model)
        self.answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body)) + body
        self.recording = False
        self.bodies: list[bytes] = []
        self.served = 0
        self.writers: set[asyncio.StreamWriter] = set()


async def _handle(state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                  ) -> None:
    state.writers.add(writer)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if state.recording:
                state.bodies.append(body)
            await asyncio.sleep(state.latency_s)
            writer.write(state.answer)
            state.served += 1
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass  # the client closed its keep-alive connection, or the server is stopping
    finally:
        state.writers.discard(writer)
        writer.close()


async def _serve(latency_s: float, model: str, conn: Connection) -> None:
    state = _State(latency_s, model)
    server = await asyncio.start_server(lambda r, w: _handle(state, r, w), "127.0.0.1", 0,
                                        backlog=1024, limit=1 << 20)
    conn.send(server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    while True:  # commands from the parent; the pipe is read in a thread to keep serving
        command, arg = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            break
        if command == "record":
            state.recording, state.bodies = bool(arg), [] if arg else state.bodies
            conn.send(None)
        elif command == "bodies":
            conn.send(state.bodies)
        elif command == "served":
            conn.send(state.served)
    server.close()
    for writer in list(state.writers):  # ends each handler's pending read
        writer.close()
    await asyncio.sleep(0.1)


def _main(latency_s: float, model: str, conn: Connection) -> None:
    asyncio.run(_serve(latency_s, model, conn))


class LoopbackAPI:
    """Handle on the server process: start, switch recording, fetch bodies, stop."""

    def __init__(self, latency_s: float, model: str = "gpt-4o-2024-08-06") -> None:
        self.latency_s, self.model = latency_s, model
        self._conn: Connection | None = None
        self._proc: mp.process.BaseProcess | None = None
        self.port = 0

    def start(self) -> LoopbackAPI:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(self.latency_s, self.model, child),
                                 daemon=True)
        self._proc.start()
        self.port = self._conn.recv()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _ask(self, command: str, arg: object = None) -> object:
        assert self._conn is not None, "start() the server first"
        self._conn.send((command, arg))
        return self._conn.recv()

    def record(self, on: bool) -> None:
        """Start keeping request bodies (dropping older ones), or stop keeping them."""
        self._ask("record", on)

    def bodies(self) -> list[bytes]:
        """The raw JSON bodies received while recording, in arrival order."""
        return self._ask("bodies")  # type: ignore[return-value]

    def served(self) -> int:
        return self._ask("served")  # type: ignore[return-value]

    def stop(self) -> None:
        if self._proc is None or self._conn is None:
            return
        self._conn.send(("stop", None))
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
        self._proc = None

    def __enter__(self) -> LoopbackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
