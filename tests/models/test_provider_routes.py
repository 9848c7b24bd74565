"""Every shipped API model through the real litellm client, against a loopback server that
answers as its provider does: where the system prompt lands, that the image is sent (base64, in
the provider's own shape), the decoding settings, the key header, and the reply's cost.

Each non-retired ``conf/model`` file of the litellm backend is composed as ``python run.py``
would, built by the registry, and pointed at the server with ``model.api_base``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io

import pytest
import yaml
from PIL import Image

from tests.conftest import CONF_DIR, compose_raw
from tests.fakes.provider_server import (
    ANSWER,
    COMPLETION_TOKENS,
    PROMPT_TOKENS,
    Captured,
    ProviderServer,
    provider_server,
)
from valuespectrum.config import ApiModelConfig, load_config
from valuespectrum.models.base import ImagePart
from valuespectrum.models.litellm_backend import import_litellm
from valuespectrum.models.registry import build_model, generation_params
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import decision_messages

__all__ = ["provider_server"]

KEY = "sk-route-canary-1234"
API_MODELS = sorted(
    p.stem for p in (CONF_DIR / "model").glob("*.yaml")
    if (spec := yaml.safe_load(p.read_text()))["backend"] == "litellm" and not spec.get("retired")
)
# Where each provider's requests go, below the server's root (what api_base points at).
API_BASE_PATH = {"openai": "/v1", "dashscope": "/compatible-mode/v1", "anthropic": "",
                 "gemini": ""}


def _jpeg() -> ImagePart:
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 40, 90)).save(buf, format="JPEG")
    return ImagePart(buf.getvalue())


IMAGE = _jpeg()


def _ask(name: str, server: ProviderServer, monkeypatch: pytest.MonkeyPatch):
    cfg = load_config(compose_raw([f"model={name}", "model.generation.top_p=0.9",
                                   "model.generation.seed=7"]))
    model_cfg = cfg.model
    assert isinstance(model_cfg, ApiModelConfig)
    route = model_cfg.model.split("/", 1)[0]
    model_cfg = dataclasses.replace(model_cfg, api_base=server.base_url + API_BASE_PATH[route])
    if model_cfg.api_key_env:
        monkeypatch.setenv(model_cfg.api_key_env, KEY)
    import_litellm()
    model = build_model(model_cfg, timeout_s=10)
    prompts = probe_prompts(cfg.prompts)
    params = generation_params(model_cfg, 0, 1)
    reply = asyncio.run(model.achat(decision_messages(prompts, IMAGE), params))
    (request,) = server.requests
    return route, model_cfg, prompts, params, reply, request


def _data_url_bytes(url: str) -> bytes:
    head, data = url.split(",", 1)
    assert head == "data:image/jpeg;base64"
    return base64.b64decode(data)


def _openai_shape(request: Captured, prompts, params, *, completion_tokens_key: str,
                  key: str = KEY) -> None:
    body = request.body
    assert request.path.endswith("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {key}"
    system, user = body["messages"]
    assert system == {"role": "system", "content": prompts.system}
    image, text = user["content"]
    assert _data_url_bytes(image["image_url"]["url"]) == IMAGE.data
    assert text == {"type": "text", "text": prompts.decision}
    assert body["temperature"] == params.temperature and body["top_p"] == 0.9
    assert body["seed"] == 7 and body[completion_tokens_key] == params.max_tokens


@pytest.mark.parametrize("name", API_MODELS)
def test_each_api_model_reaches_its_provider_in_its_shape(name, provider_server,
                                                          monkeypatch) -> None:
    route, model_cfg, prompts, params, reply, request = _ask(name, provider_server, monkeypatch)
    body = request.body
    assert reply.text == ANSWER
    assert (reply.input_tokens, reply.output_tokens) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    if route == "anthropic":
        assert request.path == "/v1/messages" and request.headers["x-api-key"] == KEY
        assert body["system"] == [{"type": "text", "text": prompts.system}]  # top-level
        (user,) = body["messages"]  # no system turn among the messages
        image, text = user["content"]
        assert image["source"] == {"type": "base64", "media_type": "image/jpeg",
                                   "data": IMAGE.base64}
        assert text == {"type": "text", "text": prompts.decision}
        assert body["temperature"] == params.temperature and body["top_p"] == 0.9
        assert body["max_tokens"] == params.max_tokens and "seed" not in body  # unsupported
    elif route == "gemini":
        model_id = model_cfg.model.split("/", 1)[1]
        assert request.path == f"/models/{model_id}:generateContent"
        assert KEY in (request.headers.get("x-goog-api-key"), *request.query.get("key", []))
        assert body["system_instruction"] == {"parts": [{"text": prompts.system}]}
        (user,) = body["contents"]
        image, text = user["parts"]
        assert image["inline_data"] == {"data": IMAGE.base64, "mime_type": "image/jpeg"}
        assert text == {"text": prompts.decision}
        g = body["generationConfig"]
        assert (g["temperature"], g["top_p"], g["seed"]) == (params.temperature, 0.9, 7)
        assert g["max_output_tokens"] == params.max_tokens
        if model_cfg.extra_params.get("reasoning_effort"):
            assert g["thinkingConfig"]["thinkingLevel"] == model_cfg.extra_params[
                "reasoning_effort"]
    else:  # OpenAI and DashScope's compatible mode: OpenAI-style
        reasoning = model_cfg.model.startswith("openai/gpt-5")
        key = "max_completion_tokens" if reasoning else "max_tokens"
        # a served model's server runs without a key: the client sends a placeholder
        sent = KEY if model_cfg.api_key_env else "no-key"
        _openai_shape(request, prompts, params, completion_tokens_key=key, key=sent)
        assert body["model"] == model_cfg.model.split("/", 1)[1]
        assert bool(body.get("logprobs")) == model_cfg.generation.logprobs


@pytest.mark.parametrize(("name", "priced"), [("gpt4o", True), ("claude", True),
                                               ("gemini35_flash", True), ("qwen3vl", True),
                                               ("qwen25vl_plus", False)])
def test_a_reply_is_costed_from_the_price_map_or_left_unknown(name, priced, provider_server,
                                                             monkeypatch) -> None:
    import litellm

    _route, model_cfg, *_, reply, _request = _ask(name, provider_server, monkeypatch)
    if not priced:
        assert reply.cost_usd is None  # unknown, never 0
        return
    info = litellm.get_model_info(model_cfg.model)
    expected = (PROMPT_TOKENS * info["input_cost_per_token"]
                + COMPLETION_TOKENS * info["output_cost_per_token"])
    assert reply.cost_usd == pytest.approx(expected, rel=1e-6)


def test_prices_from_the_config_cost_an_id_litellm_does_not_know(provider_server,
                                                                monkeypatch) -> None:
    cfg = load_config(compose_raw([
        "model=openai_compatible", "model.model=openai/route-test-unpriced-vlm",
        "model.prices.input_per_mtok=2.0", "model.prices.output_per_mtok=6.0",
        "model.supports_vision=true",
    ])).model
    monkeypatch.setenv(cfg.api_key_env, KEY)
    import_litellm()
    model = build_model(dataclasses.replace(cfg, api_base=provider_server.base_url + "/v1"),
                        timeout_s=10)
    prompts = probe_prompts(load_config(compose_raw()).prompts)
    reply = asyncio.run(model.achat(decision_messages(prompts, IMAGE),
                                    generation_params(cfg, 0, 1)))
    assert reply.cost_usd == pytest.approx((PROMPT_TOKENS * 2.0 + COMPLETION_TOKENS * 6.0) / 1e6)
    import litellm

    assert litellm.supports_vision("openai/route-test-unpriced-vlm")


def test_prices_registered_by_one_config_do_not_leak_into_the_next() -> None:
    from valuespectrum.models.litellm_prices import is_unpriced, price, register

    litellm = import_litellm()
    model = "openai/route-test-leak-vlm"
    register(litellm, model, input_per_mtok=1.0, output_per_mtok=2.0, supports_vision=True)
    assert price(litellm, model, input_per_mtok=1.0, output_per_mtok=2.0).source == "config"
    # A later job of the same process (a sweep) with the same id but no prices:
    register(litellm, model, input_per_mtok=None, output_per_mtok=None, supports_vision=True)
    assert is_unpriced(model) and not price(litellm, model).known
    assert price(litellm, "openai/gpt-4o-2024-08-06").source == "litellm map"
