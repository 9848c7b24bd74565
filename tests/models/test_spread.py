"""SpreadModel: a model's calls made in worker processes answer exactly as in this process.

Real worker processes, the real litellm client in each, the loopback fake server: what the
server receives and what the runner gets back (replies, error kinds, timeouts, a worker that
dies) must not depend on where the call was made.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer, hang, reply, status
from tests.models.conftest import KEY_ENV
from valuespectrum.models.base import GenerationParams, ImagePart, Message, ModelCallError
from valuespectrum.models.calls import CallRequest, run_calls
from valuespectrum.models.litellm_backend import LiteLLMModel
from valuespectrum.models.spread import (
    AUTO_MAX_PROCESSES,
    AUTO_MIN_CALLS,
    AUTO_MIN_CONCURRENCY,
    SpreadModel,
    _pool,
    processes_for,
)

MakeModel = Callable[..., LiteLLMModel]


def _request(i: int) -> CallRequest:
    image = ImagePart(hashlib.sha256(f"img{i}".encode()).digest() * 30, mime="image/png")
    messages = (Message.text("system", "You are a helpful assistant."),
                Message("user", (f"picture {i}", image, "Yes or no?")))
    return CallRequest(f"k{i}", messages, GenerationParams(seed=i))


def _big_request(i: int, picture: ImagePart) -> CallRequest:
    """A call showing ``picture``, a frame bigger than a socket's buffer when it is big."""
    messages = (Message.text("system", "You are a helpful assistant."),
                Message("user", (f"picture {i}", picture, "Yes or no?")))
    return CallRequest(f"k{i}", messages, GenerationParams(seed=i))


def _big_picture(size: int) -> ImagePart:
    import os

    return ImagePart(b"\x89PNG" + os.urandom(size), mime="image/png")


def _echo(body: dict, _index: int):
    """Answer each call with the number of the picture it asked about."""
    text = next(p["text"] for p in body["messages"][1]["content"] if p["type"] == "text")
    return reply(f"Yes, {text}.")


async def _spread_run(model: SpreadModel, requests: list[CallRequest], **kw):
    assert await model.ready(60) == model.processes  # every worker has the model
    try:
        return await run_calls(model, requests, progress=False, **kw)
    finally:
        await model.aclose()


def test_calls_made_in_workers_answer_like_calls_made_here(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    fake_openai_server.script = _echo
    requests = [_request(i) for i in range(40)]
    here = asyncio.run(run_calls(make_model(fake_openai_server), requests, progress=False,
                                 concurrency=8))
    spread = SpreadModel(make_model(fake_openai_server), 2)
    there = asyncio.run(_spread_run(spread, requests, concurrency=8))
    assert (spread.spread_calls, spread.local_calls) == (40, 0)
    assert [r.reply.text for r in there] == [r.reply.text for r in here]
    assert [r.reply.text for r in there] == [f"Yes, picture {i}." for i in range(40)]
    assert [r.reply.input_tokens for r in there] == [r.reply.input_tokens for r in here]
    sent = fake_openai_server.requests
    assert len(sent) == 80
    # the same request bodies (image bytes and seed included) from either process
    by_seed: dict[int, list[dict]] = {}
    for rec in sent:
        by_seed.setdefault(rec.body["seed"], []).append(rec.body)
    assert all(len(b) == 2 and b[0] == b[1] for b in by_seed.values())
    assert {rec.headers["authorization"] for rec in sent} == {f"Bearer {CANARY_KEY}"}


def test_errors_keep_their_kind_across_processes(fake_openai_server: FakeOpenAIServer,
                                                 make_model: MakeModel) -> None:
    fake_openai_server.script = [status(429, retry_after=2), status(400, message="bad image")]
    requests = [_request(0), _request(1)]
    spread = SpreadModel(make_model(fake_openai_server), 1)
    results = asyncio.run(_spread_run(spread, requests, max_retries=0, concurrency=1))
    limited, bad = (r.error for r in results)
    assert isinstance(limited, ModelCallError) and isinstance(bad, ModelCallError)
    assert (limited.kind, limited.retryable, limited.retry_after, limited.status) == (
        "rate_limit", True, 2.0, 429)
    assert (bad.kind, bad.retryable, bad.status) == ("bad_request", False, 400)
    assert "bad image" in str(bad)
    assert spread.spread_calls == 2


def test_a_call_timed_out_here_is_cancelled_in_its_worker(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    fake_openai_server.script = [hang(5), reply("Yes.")]
    spread = SpreadModel(make_model(fake_openai_server), 1)

    async def go():
        assert await spread.ready(60) == 1
        timed_out = await run_calls(spread, [_request(0)], progress=False, timeout_s=0.5,
                                    max_retries=0)
        (worker,) = spread._workers
        # The worker confirms the cancel long before the server would answer (after 5 s).
        deadline = asyncio.get_running_loop().time() + 2
        while worker.unanswered and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert worker.unanswered == set() and worker.pending == {}
        fine = await run_calls(spread, [_request(1)], progress=False, timeout_s=5)
        await spread.aclose()
        return timed_out, fine

    (timed_out,), (fine,) = asyncio.run(go())
    assert timed_out.error is not None and timed_out.error.kind == "timeout"
    assert fine.reply is not None and fine.reply.text == "Yes."


def test_frames_sent_at_once_and_through_the_sender_stay_in_order(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    """A frame is sent at once where the socket takes it, else through the sender thread;
    frames bigger than the socket's buffer take both ways at once (a first part now, the rest
    queued, the frames after it queued behind). Each worker still reads every frame whole and
    in order: every call is answered there, none asked again."""
    fake_openai_server.script = _echo
    spread = SpreadModel(make_model(fake_openai_server), 2)
    big = _big_picture(1_000_000)  # > a socket buffer
    small = [_request(i) for i in range(24, 48)]  # small frames, sent at once between them
    requests = [r for pair in zip([_big_request(i, big) for i in range(24)], small,
                                  strict=True) for r in pair]
    ways: Counter[str] = Counter()

    class Counting:  # the worker's socket, counting which way each frame's bytes went
        def __init__(self, sock) -> None:
            self.sock = sock

        def send(self, data, flags=0) -> int:
            sent = self.sock.send(data, flags)
            ways["at once, whole" if sent == len(data) else "at once, in part"] += 1
            return sent

        def sendall(self, data) -> None:
            ways["through the sender"] += 1
            self.sock.sendall(data)

        def __getattr__(self, name: str):
            return getattr(self.sock, name)

    async def go():
        assert await spread.ready(60) == 2
        for w in spread._workers:
            w.sock = Counting(w.sock)
        try:
            return await run_calls(spread, requests, progress=False, concurrency=8,
                                   timeout_s=30)
        finally:
            await spread.aclose()
            for w in spread._workers or _pool.workers:
                w.sock = getattr(w.sock, "sock", w.sock)

    results = asyncio.run(go())
    order = [i for pair in zip(range(24), range(24, 48), strict=True) for i in pair]
    assert [r.reply.text for r in results] == [f"Yes, picture {i}." for i in order]
    assert not any(r.retried for r in results)
    assert (spread.spread_calls, spread.local_calls) == (48, 0)
    assert min(ways.values()) > 0 and len(ways) == 3, ways  # every way was taken


def test_a_worker_that_dies_costs_retries_not_answers(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    fake_openai_server.script = _echo
    fake_openai_server.latency_s = 0.2
    spread = SpreadModel(make_model(fake_openai_server), 2)

    async def go():
        assert await spread.ready(60) == 2
        victim = spread._workers[0]
        running = asyncio.create_task(run_calls(
            spread, [_request(i) for i in range(30)], progress=False, concurrency=10,
            max_retries=2, backoff_base_s=0.01))
        deadline = asyncio.get_running_loop().time() + 10
        while len(victim.pending) < 2:  # calls in flight in the victim
            assert asyncio.get_running_loop().time() < deadline, "no call reached the victim"
            await asyncio.sleep(0.01)
        victim.proc.kill()
        results = await running
        await spread.aclose()
        return victim, results

    victim, results = asyncio.run(go())
    assert [r.reply.text for r in results] == [f"Yes, picture {i}." for i in range(30)]
    assert any(r.retried for r in results)  # what the dead worker had was asked again
    assert not victim.alive
    # the next model gets a full set of live workers again, the dead one replaced
    fresh = SpreadModel(make_model(fake_openai_server), 2)

    async def again():
        assert await fresh.ready(60) == 2
        workers = list(fresh._workers)
        (result,) = await run_calls(fresh, [_request(0)], progress=False)
        await fresh.aclose()
        return workers, result

    workers, result = asyncio.run(again())
    assert victim not in workers and all(w.alive for w in workers)
    assert result.reply is not None and fresh.spread_calls == 1


def test_a_worker_reads_the_key_this_process_has_now(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = SpreadModel(make_model(fake_openai_server), 1)
    asyncio.run(_spread_run(first, [_request(0)]))
    monkeypatch.setenv(KEY_ENV, "sk-rotated-key")  # the workers were started with the old one
    second = SpreadModel(make_model(fake_openai_server), 1)
    asyncio.run(_spread_run(second, [_request(1)]))
    assert [r.headers["authorization"] for r in fake_openai_server.requests] == [
        f"Bearer {CANARY_KEY}", "Bearer sk-rotated-key"]


def test_calls_start_here_while_the_workers_start(fake_openai_server: FakeOpenAIServer,
                                                   make_model: MakeModel) -> None:
    """The first calls never wait for a worker: they are made here until one has the model."""
    _pool.close()  # brand-new workers: seconds before they can make a call
    spread = SpreadModel(make_model(fake_openai_server), 1)

    async def go():
        first = await run_calls(spread, [_request(0)], progress=False, timeout_s=5)
        started = spread._workers
        await spread.aclose()
        return first, started

    (result,), started = asyncio.run(go())
    assert result.reply is not None and result.reply.text == "Yes"
    assert (spread.local_calls, spread.spread_calls) == (1, 0)
    assert started and all(w.alive for w in started)  # started, just not ready yet


def test_workers_that_cannot_start_leave_the_calls_here(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import valuespectrum.models.spread as spread_module

    def no_process(*_a, **_k):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(spread_module, "_pool", spread_module._Pool())  # none started yet
    monkeypatch.setattr(spread_module.subprocess, "Popen", no_process)
    spread = SpreadModel(make_model(fake_openai_server), 2)
    fake_openai_server.script = _echo

    async def go():
        results = await run_calls(spread, [_request(i) for i in range(5)], progress=False)
        await spread.aclose()
        return results

    results = asyncio.run(go())
    assert [r.reply.text for r in results] == [f"Yes, picture {i}." for i in range(5)]
    assert (spread.local_calls, spread.spread_calls) == (5, 0)
    assert "cannot start a call worker" in caplog.text


def test_auto_spreads_only_where_one_loop_would_be_the_limit(monkeypatch) -> None:
    monkeypatch.setattr("valuespectrum.models.spread.usable_cpus", lambda: 16)
    many = dict(concurrency=AUTO_MIN_CONCURRENCY, calls=AUTO_MIN_CALLS)
    assert processes_for("auto", **many) == AUTO_MAX_PROCESSES
    assert processes_for("auto", concurrency=AUTO_MIN_CONCURRENCY - 1, calls=10_000) == 0
    assert processes_for("auto", concurrency=64, calls=AUTO_MIN_CALLS - 1) == 0
    assert processes_for("3", concurrency=1, calls=1) == 3
    assert processes_for("0", **many) == 0
    monkeypatch.setattr("valuespectrum.models.spread.usable_cpus", lambda: 2)
    assert processes_for("auto", **many) == 2


def test_a_worker_that_dies_at_start_leaves_the_calls_here(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import valuespectrum.models.spread as spread_module

    # a worker whose Python cannot start (here: an interpreter option it refuses)
    monkeypatch.setattr(spread_module, "_pool", spread_module._Pool())
    real_popen = spread_module.subprocess.Popen
    monkeypatch.setattr(spread_module.subprocess, "Popen",
                        lambda args, **kw: real_popen([args[0], "--no-such-option",
                                                       *args[1:]], **kw))
    spread = SpreadModel(make_model(fake_openai_server), 1)

    async def go():
        assert await spread.ready(20) == 0  # it exited instead of getting ready
        results = await run_calls(spread, [_request(i) for i in range(3)], progress=False)
        await spread.aclose()
        return results

    results = asyncio.run(go())
    assert all(r.reply is not None for r in results)
    assert (spread.local_calls, spread.spread_calls) == (3, 0)
    assert "exited (code" in caplog.text and "made in this process" in caplog.text


def test_a_stopped_worker_blocks_nothing(fake_openai_server: FakeOpenAIServer,
                                         make_model: MakeModel) -> None:
    """A worker that stops reading (SIGSTOP) with big frames queued for it: the event loop
    stays free, its calls time out here and are answered by the other worker."""
    import os
    import signal

    fake_openai_server.script = _echo
    spread = SpreadModel(make_model(fake_openai_server), 2)
    big = _big_picture(400_000)  # > a socket buffer

    watchdog_fired = threading.Event()

    async def go():
        assert await spread.ready(60) == 2
        stopped = spread._workers[0]
        os.kill(stopped.proc.pid, signal.SIGSTOP)

        def unstick() -> None:  # a blocked loop cannot time out: resume the worker, fail below
            watchdog_fired.set()
            os.kill(stopped.proc.pid, signal.SIGCONT)

        watchdog = threading.Timer(45, unstick)
        watchdog.start()
        try:
            return stopped, await run_calls(
                spread, [_big_request(i, big) for i in range(12)], progress=False, concurrency=4,
                timeout_s=1.5, max_retries=3, backoff_base_s=0.01)
        finally:
            watchdog.cancel()
            os.kill(stopped.proc.pid, signal.SIGCONT)
            await spread.aclose()

    stopped, results = asyncio.run(go())
    assert not watchdog_fired.is_set(), "the event loop was blocked by the stopped worker"
    assert [r.reply.text for r in results] == [f"Yes, picture {i}." for i in range(12)]
    assert any(r.retried for r in results)  # what went to the stopped worker was asked again
    assert len(stopped.unanswered) <= 4  # it was sent no more than what was in flight


def test_a_figure_drawn_in_a_worker_is_the_figure_drawn_here(
        fake_openai_server: FakeOpenAIServer, make_model: MakeModel, tmp_path) -> None:
    """The probe draws its figures in an idle call worker: byte for byte what it would draw."""
    import pandas as pd

    from valuespectrum.models.spread import offload
    from valuespectrum.report.profile import collect_figures, drawn_files
    from valuespectrum.values import VALUES

    scores = pd.DataFrame({"model": "fake", "value": list(VALUES),
                           "score": [40.0 + 3 * i for i in range(10)],
                           "ci_low": [30.0 + 3 * i for i in range(10)],
                           "ci_high": [50.0 + 3 * i for i in range(10)]})
    settings = dict(label="fake", axis_order="paper", true_profile=None, formats=("png", "svg"))
    spread = SpreadModel(make_model(fake_openai_server), 1)
    assert asyncio.run(spread.ready(60)) == 1  # a worker is up
    asyncio.run(spread.aclose())
    started = {"radar": offload(drawn_files, scores, figures=("radar",), **settings)}
    assert started["radar"] is not None
    there = tmp_path / "there"
    there.mkdir()
    collect_figures(started, there, scores, **settings)  # the bars: drawn here
    here = drawn_files(scores, **settings)
    assert sorted(p.name for p in there.iterdir()) == sorted(here) == [
        "radar.png", "radar.svg", "scores.png", "scores.svg"]
    assert all((there / name).read_bytes() == data for name, data in here.items())
    broken = offload(drawn_files, "not a table", figures=("radar",), **settings)
    with pytest.raises(RuntimeError, match="call worker"):
        broken.result(timeout=60)
