"""LiteLLMModel through the real litellm client against the loopback fake server.

What matters for a study: the image the server receives is byte-for-byte the one we sent, every
failure maps to the error kind the retry logic needs, and the API key never leaves the
Authorization header.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.fakes.openai_server import (
    CANARY_KEY,
    REFUSAL_TEXT,
    Action,
    FakeOpenAIServer,
    hang,
    refuse,
    reply,
    status,
)
from valuespectrum.models.base import GenerationParams, ImagePart, Message, ModelCallError, Reply
from valuespectrum.models.litellm_backend import (
    LiteLLMModel,
    MissingCredentialError,
    retry_after_s,
    yes_no_logprobs,
)

MakeModel = Callable[..., LiteLLMModel]
IMAGE = ImagePart(hashlib.sha256(b"img").digest() * 40, mime="image/png")
CONVERSATION = (
    Message.text("system", "You are a helpful assistant."),
    Message("user", ("I am scrolling and saw this picture.", IMAGE, "Yes or no?")),
)


def chat(model: LiteLLMModel, params: GenerationParams | None = None) -> Reply:
    return asyncio.run(model.achat(CONVERSATION, params or GenerationParams()))


def chat_error(model: LiteLLMModel) -> ModelCallError:
    with pytest.raises(ModelCallError) as info:
        chat(model)
    return info.value


def test_server_receives_image_bytes_text_and_key(fake_openai_server: FakeOpenAIServer,
                                                  make_model: MakeModel) -> None:
    chat(make_model(fake_openai_server, image_detail="low"))
    (req,) = fake_openai_server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert [hashlib.sha256(b).hexdigest() for b in req.images()] == [IMAGE.sha256]
    system, user = req.body["messages"]
    assert system == {"role": "system", "content": "You are a helpful assistant."}
    kinds = [p["type"] for p in user["content"]]
    assert kinds == ["text", "image_url", "text"]  # order of interleaving kept
    assert user["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert user["content"][1]["image_url"]["detail"] == "low"
    assert req.texts()[1:] == ["I am scrolling and saw this picture.", "Yes or no?"]
    assert req.body["temperature"] == 0.0 and req.body["max_tokens"] == 300
    assert "logprobs" not in req.body


def test_reply_carries_accounting(fake_openai_server: FakeOpenAIServer,
                                  make_model: MakeModel) -> None:
    fake_openai_server.script = [reply("Yes.")]
    out = chat(make_model(fake_openai_server), GenerationParams(seed=3, top_p=0.9))
    assert out.text == "Yes."
    assert out.model_version == "fake-vlm-2024-01-01"
    assert out.input_tokens and out.output_tokens == 1
    assert out.cost_usd is None  # unknown price is None, never an exception
    assert out.latency_s > 0
    assert out.yes_logprob is None and out.no_logprob is None
    body = fake_openai_server.requests[0].body
    assert body["seed"] == 3 and body["top_p"] == 0.9


def test_first_token_yes_no_logprobs(fake_openai_server: FakeOpenAIServer,
                                     make_model: MakeModel) -> None:
    fake_openai_server.script = [reply("Yes", logprobs={"Yes": -0.2, " no": -1.9, "Maybe": -4.0})]
    out = chat(make_model(fake_openai_server), GenerationParams(logprobs=True))
    body = fake_openai_server.requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert out.yes_logprob == pytest.approx(-0.2)
    assert out.no_logprob == pytest.approx(-1.9)


def test_logprobs_absent_from_server_are_none(fake_openai_server: FakeOpenAIServer,
                                              make_model: MakeModel) -> None:
    fake_openai_server.script = [reply("Yes")]  # the server ignores the logprobs request
    out = chat(make_model(fake_openai_server), GenerationParams(logprobs=True))
    assert (out.yes_logprob, out.no_logprob) == (None, None)


def test_yes_no_logprobs_matches_loosely_and_keeps_the_best() -> None:
    lp = {"content": [{"token": "YES", "logprob": -0.5,
                       "top_logprobs": [{"token": "YES", "logprob": -0.5},
                                        {"token": " yes", "logprob": -1.0},
                                        {"token": "No ", "logprob": -2.0},
                                        {"token": "nope", "logprob": -0.1}]}]}
    assert yes_no_logprobs(lp) == (-0.5, -2.0)
    assert yes_no_logprobs(None) == (None, None)
    assert yes_no_logprobs({"content": []}) == (None, None)


@pytest.mark.parametrize("action", [reply(None), Action("reply", no_choices=True)],
                         ids=["null-content", "no-choices"])
def test_empty_answers_are_empty_text_not_errors(fake_openai_server: FakeOpenAIServer,
                                                 make_model: MakeModel, action: Action) -> None:
    fake_openai_server.script = [action]
    assert chat(make_model(fake_openai_server)).text == ""


def test_refusal_is_text(fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    fake_openai_server.script = [refuse()]
    assert chat(make_model(fake_openai_server)).text == REFUSAL_TEXT


@pytest.mark.parametrize(
    ("action", "kind", "retryable"),
    [
        (status(429), "rate_limit", True),
        (status(500), "server", True),
        (status(502), "server", True),
        (status(503), "server", True),
        (status(401), "auth", False),
        (status(403), "auth", False),
        (status(400), "bad_request", False),
        (status(404), "bad_request", False),
        (status(422), "bad_request", False),
    ],
)
def test_http_errors_map_to_kinds(fake_openai_server: FakeOpenAIServer, make_model: MakeModel,
                                  action: Action, kind: str, retryable: bool) -> None:
    fake_openai_server.script = [action]
    err = chat_error(make_model(fake_openai_server))
    assert (err.kind, err.retryable, err.status) == (kind, retryable, action.status)
    assert len(fake_openai_server.requests) == 1  # neither litellm nor openai retried


def test_hang_is_a_retryable_timeout(fake_openai_server: FakeOpenAIServer,
                                     make_model: MakeModel) -> None:
    fake_openai_server.script = [hang(3)]
    err = chat_error(make_model(fake_openai_server, timeout_s=0.3))
    assert (err.kind, err.retryable) == ("timeout", True)


def test_connection_refused_is_retryable_transport(make_model: MakeModel) -> None:
    with FakeOpenAIServer() as server:
        model = make_model(server)
    err = chat_error(model)  # the port is closed now
    assert (err.kind, err.retryable) == ("transport", True)


def test_retry_after_seconds_and_http_date(fake_openai_server: FakeOpenAIServer,
                                           make_model: MakeModel) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    fake_openai_server.script = [status(429, retry_after=2),
                                 status(429, retry_after=email.utils.format_datetime(soon, True))]
    model = make_model(fake_openai_server)
    assert chat_error(model).retry_after == pytest.approx(2.0)
    assert chat_error(model).retry_after == pytest.approx(30.0, abs=2.0)


def test_retry_after_parsing_edge_cases() -> None:
    class Err(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            super().__init__("x")
            self.headers = headers

    assert retry_after_s(Err({"retry-after-ms": "1500"})) == pytest.approx(1.5)
    assert retry_after_s(Err({"Retry-After": "0.25"})) == pytest.approx(0.25)
    assert retry_after_s(Err({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0  # past
    assert retry_after_s(Err({"Retry-After": "soon"})) is None
    assert retry_after_s(Err({})) is None
    chained = RuntimeError("wrapper")
    chained.__cause__ = Err({"retry-after": "4"})
    assert retry_after_s(chained) == pytest.approx(4.0)


def test_key_never_leaks(fake_openai_server: FakeOpenAIServer, make_model: MakeModel) -> None:
    fake_openai_server.script = [status(401, echo_auth=True)]
    model = make_model(fake_openai_server)
    err = chat_error(model)
    assert CANARY_KEY not in str(err) and "***" in str(err)
    assert CANARY_KEY not in repr(model) and CANARY_KEY not in str(model.fingerprint())
    assert CANARY_KEY not in str(vars(model))
    assert model.fingerprint() == {"backend": "litellm", "model": "openai/fake-vlm",
                                   "api_base": fake_openai_server.base_url, "image_detail": "high"}


def test_custom_base_without_key_env_never_sends_the_provider_key(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    chat(LiteLLMModel("local", "openai/fake-vlm", api_base=fake_openai_server.base_url))
    assert CANARY_KEY not in fake_openai_server.requests[0].headers["authorization"]


def test_key_gone_at_call_time_fails_without_sending_another_key(
    fake_openai_server: FakeOpenAIServer, make_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_model(fake_openai_server)
    monkeypatch.delenv(model.api_key_env or "")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-some-other-key")
    err = chat_error(model)
    assert (err.kind, err.retryable) == ("auth", False) and model.api_key_env in str(err)
    assert fake_openai_server.requests == []


def test_check_credentials_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    key_env = "VALUESPECTRUM_TEST_GPT4O_KEY"
    model = LiteLLMModel("gpt4o", "openai/gpt-4o-2024-08-06", api_key_env=key_env)
    monkeypatch.setenv(key_env, "")
    with pytest.raises(MissingCredentialError, match=f"set {key_env} \\(model=gpt4o\\)"):
        model.check_credentials()
    monkeypatch.setenv(key_env, CANARY_KEY)
    model.check_credentials()
    LiteLLMModel("local", "openai/x", api_base="http://127.0.0.1:1/v1").check_credentials()


def test_constructing_a_model_imports_nothing_heavy() -> None:
    code = (
        "import sys; from valuespectrum.models.litellm_backend import LiteLLMModel; "
        "LiteLLMModel('q', 'dashscope/qwen-vl-plus', api_key_env='DASHSCOPE_API_KEY'); "
        "assert 'litellm' not in sys.modules and 'openai' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_stopping_the_server_ends_hung_handlers_at_once(make_model: MakeModel) -> None:
    import threading
    import time

    server = FakeOpenAIServer([hang(60)]).start()
    try:
        chat_error(make_model(server, timeout_s=0.2))
    finally:
        start = time.monotonic()
        server.stop()
    assert time.monotonic() - start < 1.5
    assert not [t for t in threading.enumerate()
                if t.name == "fake-openai-server" or "process_request" in t.name]
