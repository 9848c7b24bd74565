"""run_calls through the real litellm client against the fake server (and a few pure fakes).

The properties a probe relies on: transient failures are retried (after Retry-After), permanent
ones are not, every final result reaches ``on_result``, a failing run stops early with a message
that says what to do, the concurrency cap holds, and injected faults end as the server meant.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.fakes.fault_plan import FaultPlan
from tests.fakes.openai_server import (
    CANARY_KEY,
    REFUSAL_TEXT,
    FakeOpenAIServer,
    garbage,
    hang,
    refuse,
    reply,
    status,
)
from valuespectrum.models.base import GenerationParams, ImagePart, Message, ModelCallError, Reply
from valuespectrum.models.calls import (
    ANSWERED,
    FAILED_BEFORE,
    CallRequest,
    CallResult,
    ErrorRateExceeded,
    backoff_s,
    run_calls,
)
from valuespectrum.models.litellm_backend import LiteLLMModel, to_openai_messages

MakeModel = Callable[..., LiteLLMModel]
FAST = {"timeout_s": 0.5, "backoff_base_s": 0.01, "backoff_max_s": 0.05, "progress": False}


def image(i: int) -> ImagePart:
    return ImagePart(hashlib.sha256(f"image-{i}".encode()).digest() * 8, mime="image/jpeg")


def requests(n: int, params: GenerationParams | None = None) -> list[CallRequest]:
    return [
        CallRequest(f"k{i}", (Message("user", (image(i), "Is this interesting? yes or no")),),
                    params or GenerationParams())
        for i in range(n)
    ]


def run(model: Any, reqs: Sequence[CallRequest], **kw: Any) -> list[CallResult]:
    return asyncio.run(run_calls(model, reqs, **{**FAST, **kw}))


def test_429_waits_for_retry_after(fake_openai_server: FakeOpenAIServer,
                                   make_model: MakeModel) -> None:
    fake_openai_server.script = [status(429, retry_after=0.3), reply("Yes")]
    (res,) = run(make_model(fake_openai_server), requests(1), backoff_max_s=1.0)
    assert res.reply is not None and res.reply.text == "Yes"
    assert (res.attempts, res.retried) == (2, True)
    first, second = fake_openai_server.requests
    assert second.received_at - first.received_at >= 0.3


def test_500_then_success_is_retried(fake_openai_server: FakeOpenAIServer,
                                     make_model: MakeModel) -> None:
    fake_openai_server.script = [status(500), status(503), reply("No")]
    (res,) = run(make_model(fake_openai_server), requests(1))
    assert res.reply is not None and res.reply.text == "No" and res.attempts == 3


def test_hang_times_out_after_all_retries(fake_openai_server: FakeOpenAIServer,
                                          make_model: MakeModel) -> None:
    fake_openai_server.script = [hang(5)]
    (res,) = run(make_model(fake_openai_server), requests(1), timeout_s=0.2, max_retries=2)
    assert res.error is not None and res.error.kind == "timeout" and res.reply is None
    assert res.attempts == 3 and len(fake_openai_server.requests) == 3


def test_auth_failure_is_not_retried(fake_openai_server: FakeOpenAIServer,
                                     make_model: MakeModel) -> None:
    fake_openai_server.script = [status(401, echo_auth=True)]
    (res,) = run(make_model(fake_openai_server), requests(1))
    assert res.error is not None and res.error.kind == "auth"
    assert res.attempts == 1 and not res.retried and len(fake_openai_server.requests) == 1


def test_refusal_and_garbage_come_back_as_text(fake_openai_server: FakeOpenAIServer,
                                               make_model: MakeModel) -> None:
    fake_openai_server.script = lambda body, i: refuse() if i % 2 == 0 else garbage(i)
    results = run(make_model(fake_openai_server), requests(4), concurrency=1)
    texts = [r.reply.text for r in results if r.reply is not None]
    assert texts[0] == texts[2] == REFUSAL_TEXT
    assert all(t and t != REFUSAL_TEXT for t in texts[1::2])


def test_logprobs_and_results_in_request_order(fake_openai_server: FakeOpenAIServer,
                                               make_model: MakeModel) -> None:
    fake_openai_server.script = [reply("Yes", logprobs={"Yes": -0.1, "No": -2.5})]
    delivered: list[str] = []
    results = run(make_model(fake_openai_server), requests(6, GenerationParams(logprobs=True)),
                  on_result=lambda r: delivered.append(r.key))
    assert [r.key for r in results] == [f"k{i}" for i in range(6)]
    assert sorted(delivered) == sorted(r.key for r in results)  # each delivered exactly once
    assert all(r.reply and (r.reply.yes_logprob, r.reply.no_logprob) == (-0.1, -2.5)
               for r in results)


def test_images_reach_the_server_intact(fake_openai_server: FakeOpenAIServer,
                                        make_model: MakeModel) -> None:
    run(make_model(fake_openai_server), requests(5))
    received = {hashlib.sha256(img).hexdigest()
                for req in fake_openai_server.requests for img in req.images()}
    assert received == {image(i).sha256 for i in range(5)}
    assert {req.texts()[0] for req in fake_openai_server.requests} == {
        "Is this interesting? yes or no"}


def test_concurrency_cap_holds(fake_openai_server: FakeOpenAIServer,
                               make_model: MakeModel) -> None:
    fake_openai_server.latency_s = 0.1
    run(make_model(fake_openai_server), requests(24), concurrency=4)
    assert fake_openai_server.max_in_flight == 4


def test_error_rate_guard_stops_the_run(fake_openai_server: FakeOpenAIServer,
                                        make_model: MakeModel) -> None:
    fake_openai_server.script = [status(400)]
    delivered: list[CallResult] = []
    with pytest.raises(ErrorRateExceeded) as info:
        run(make_model(fake_openai_server), requests(200), concurrency=4, max_error_rate=0.5,
            min_calls_for_error_rate=20, on_result=delivered.append)
    message = str(info.value)
    assert "raise probe.max_error_rate or check the model/server" in message
    assert "bad_request" in message and "\n" not in message
    assert 20 <= len(delivered) < 200 and len(fake_openai_server.requests) < 200
    assert {r.key for r in info.value.results} <= {r.key for r in delivered}


def test_error_rate_stop_leaves_no_unsent_request_behind(fake_openai_server: FakeOpenAIServer,
                                                         make_model: MakeModel) -> None:
    # Instant 400s at concurrency 64: when the stop fires, dozens of calls are inside litellm,
    # some with a request built (a coroutine handed back by its executor) but not yet sent.
    fake_openai_server.script = [status(400)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ErrorRateExceeded):
            run(make_model(fake_openai_server), requests(300), concurrency=64,
                max_error_rate=0.5, min_calls_for_error_rate=20)
        gc.collect()  # an abandoned coroutine warns when it is collected
    assert len(fake_openai_server.requests) < 300
    unawaited = [str(w.message) for w in caught
                 if issubclass(w.category, RuntimeWarning) and "never awaited" in str(w.message)]
    assert unawaited == []


def test_canary_key_never_reaches_results(fake_openai_server: FakeOpenAIServer,
                                          make_model: MakeModel) -> None:
    fake_openai_server.script = [status(401, echo_auth=True), status(429, echo_auth=True),
                                 reply("Yes")]
    model = make_model(fake_openai_server)
    results = run(model, requests(9), concurrency=1)
    assert all(req.headers["authorization"] == f"Bearer {CANARY_KEY}"
               for req in fake_openai_server.requests)
    assert any(r.error is not None for r in results)
    leaky = [repr(model), str(model.fingerprint()), *map(repr, results),
             *(str(r.error) for r in results if r.error)]
    assert not [s for s in leaky if CANARY_KEY in s]


def outcome(result: CallResult) -> str:
    if result.reply is None:
        return "error"
    text = result.reply.text
    return {"Yes.": "yes", "No.": "no", REFUSAL_TEXT: "refuse"}.get(text, "garbage")


def test_injected_faults_end_as_the_server_planned(fake_openai_server: FakeOpenAIServer,
                                                   make_model: MakeModel) -> None:
    plan = FaultPlan(seed=7, p_refuse=0.04, p_garbage=0.04, p_429=0.04, p_500=0.04,
                     p_hang=0.02, p_fail=0.02, p_yes=0.4, hang_s=2.0)
    fake_openai_server.script = plan
    reqs = requests(120)
    results = run(make_model(fake_openai_server), reqs, concurrency=16, max_retries=2)
    got = Counter(outcome(r) for r in results)
    assert got == plan.counts()  # what the client ended with is what the server last served
    assert {"yes", "no", "refuse", "garbage", "error"} <= set(got)  # every outcome exercised
    for req, res in zip(reqs, results, strict=True):
        key = FaultPlan.key({"messages": to_openai_messages(req.messages, "high")})
        assert outcome(res) == plan.expected(key, max_retries=2), plan.fate(key)
        if plan.fate(key) in ("rate_limit", "server_error", "hang", "fail"):
            assert res.retried and plan.attempts[key] >= 2


class ScriptedModel:
    """A ChatModel without a network, for the runner's own logic."""

    name = "scripted"

    def __init__(self, behave: Callable[[int], Reply]) -> None:
        self.behave, self.calls = behave, 0

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": "scripted"}

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        self.calls += 1
        return self.behave(self.calls)

    async def aclose(self) -> None:
        return None


def test_unexpected_backend_exception_is_an_error_not_a_crash() -> None:
    def boom(_n: int) -> Reply:
        raise KeyError("bug")

    (res,) = run(ScriptedModel(boom), requests(1))
    assert res.error is not None and res.error.kind == "other" and res.attempts == 1


def test_on_result_failure_stops_the_run() -> None:
    def fail(_r: CallResult) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run(ScriptedModel(lambda n: Reply("Yes", 0.0)), requests(50), concurrency=2,
            on_result=fail)


def test_no_requests_is_no_work() -> None:
    assert run(ScriptedModel(lambda n: Reply("Yes", 0.0)), [], progress=True) == []


def test_streamed_requests_start_before_the_stream_ends() -> None:
    # The stream holds back its last requests until the first call has come back: a runner that
    # drew the whole stream before calling would wait forever (here: time out).
    first_back = asyncio.Event()
    reqs = requests(6)

    async def stream() -> Any:
        yield reqs[0]
        yield ANSWERED  # a call the caller answered itself: skipped, only counted
        await asyncio.wait_for(first_back.wait(), 5)
        for r in reqs[1:]:
            yield r

    async def go() -> list[CallResult]:
        return await run_calls(ScriptedModel(lambda n: Reply(f"answer {n}", 0.0)), stream(),
                               on_result=lambda r: first_back.set(), total=7,
                               **{**FAST, "progress": True})

    results = asyncio.run(go())
    assert [r.key for r in results] == [r.key for r in reqs]
    assert all(r.ok for r in results)


def test_a_failing_stream_stops_the_run() -> None:
    async def stream() -> Any:
        yield requests(1)[0]
        raise OSError("image unreadable")

    with pytest.raises(OSError, match="image unreadable"):
        asyncio.run(run_calls(ScriptedModel(lambda n: Reply("Yes", 0.0)), stream(), **FAST))


def test_progress_bar_carries_the_label(capsys: pytest.CaptureFixture[str]) -> None:
    run(ScriptedModel(lambda n: Reply("Yes", 0.0)), requests(3), progress=True,
        label="decision calls")
    assert "decision calls" in capsys.readouterr().err


def test_backoff_is_jittered_capped_and_respects_retry_after() -> None:
    waits = [backoff_s(3, 0.5, 30, None) for _ in range(200)]
    assert min(waits) >= 0 and max(waits) <= 2.0 and len(set(waits)) > 100
    assert all(backoff_s(10, 0.5, 3, None) <= 3 for _ in range(50))
    assert all(backoff_s(1, 0.01, 30, 2.0) >= 2.0 for _ in range(50))
    assert backoff_s(1, 0.01, 5, 3600) <= 5  # a huge Retry-After is capped, not obeyed for hours


def test_retryable_error_from_a_pure_model_is_retried() -> None:
    def flaky(n: int) -> Reply:
        if n < 3:
            raise ModelCallError("server", "try again", retryable=True, retry_after=0.01)
        return Reply("No", 0.0)

    model = ScriptedModel(flaky)
    (res,) = run(model, requests(1), progress=True, cached=5)
    assert res.reply is not None and res.attempts == 3 and model.calls == 3


def test_settled_failures_count_in_the_budget_even_with_nothing_to_call() -> None:
    # 30 calls answered from the cache, 10 that failed permanently before, none left to make:
    # 25% of the job failed, over a 20% budget, so the run is stopped all the same.
    async def stream() -> Any:
        for i in range(40):
            yield ANSWERED if i % 4 else FAILED_BEFORE

    async def go() -> list[CallResult]:
        return await run_calls(ScriptedModel(lambda n: Reply("Yes", 0.0)), stream(),
                               max_error_rate=0.2, total=40, **FAST)

    with pytest.raises(ErrorRateExceeded, match=r"10/40 calls of this job failed, 10 of them"):
        asyncio.run(go())


class _Node:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_while_calls_run_the_collector_leaves_older_objects_alone() -> None:
    """A full collection of a job's heap would stall every call in flight: while calls run,
    what existed before them is frozen (``gc.freeze``); the calls' own garbage is still
    collected, and afterwards the older objects are the collector's again."""
    import weakref

    old = _Node()
    old_ref = weakref.ref(old)
    seen: list[tuple[int, bool]] = []

    def behave(n: int) -> Reply:
        nonlocal old
        fresh = _Node()
        fresh_ref = weakref.ref(fresh)
        del fresh
        old = None  # the older cycle becomes garbage while frozen: it waits for the end
        gc.collect()
        seen.append((gc.get_freeze_count(), fresh_ref() is None, old_ref() is not None))
        return Reply("Yes", 0.0)

    before = gc.get_freeze_count()
    run(ScriptedModel(behave), requests(3), concurrency=1)
    # frozen during the calls; the calls' own garbage collected, the older cycle not (yet)
    assert all(frozen > before and fresh_gone and old_kept
               for frozen, fresh_gone, old_kept in seen), seen
    assert gc.get_freeze_count() == before
    gc.collect()
    assert old_ref() is None  # nothing leaks: back with the collector, it is freed


def test_a_failed_run_gives_the_older_objects_back_to_the_collector() -> None:
    before = gc.get_freeze_count()

    def fail(_r: CallResult) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        run(ScriptedModel(lambda n: Reply("Yes", 0.0)), requests(5), on_result=fail)
    assert gc.get_freeze_count() == before


def test_two_call_runners_at_once_keep_older_objects_frozen_until_both_end() -> None:
    import threading

    before = gc.get_freeze_count()
    inside, other_done = threading.Event(), threading.Event()
    frozen_after_other: list[int] = []

    def slow(n: int) -> Reply:  # runs in its own thread and event loop
        inside.set()
        other_done.wait(10)
        frozen_after_other.append(gc.get_freeze_count())
        return Reply("Yes", 0.0)

    long_run = threading.Thread(target=run, args=(ScriptedModel(slow), requests(1)))
    long_run.start()
    assert inside.wait(10)
    run(ScriptedModel(lambda n: Reply("Yes", 0.0)), requests(2))  # starts and ends meanwhile
    other_done.set()
    long_run.join(10)
    assert frozen_after_other and frozen_after_other[0] > before
    assert gc.get_freeze_count() == before


def test_objects_someone_else_froze_stay_frozen() -> None:
    """A program that froze its heap itself (say, before forking workers) keeps it frozen."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        run(ScriptedModel(lambda n: Reply("Yes", 0.0)), requests(2))
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
