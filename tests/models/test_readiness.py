"""Pre-flight for open weights: every shipped local config runs on a tiny stand-in of its family,
every served config is refused in one line with its serve line while its server is absent, and a
checkpoint the loader cannot serve is refused naming where it can run."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONF_DIR, compose_raw
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.config import ConfigError, load_config, prompt_preset
from valuespectrum.models.base import GenerationParams, Reply
from valuespectrum.models.registry import build_model, check_ready
from valuespectrum.models.served import is_loopback
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import decision_messages, encode_image

# Each shipped transformers config -> the hub model_type of its checkpoint (its stand-in family).
STAND_INS = {
    "blip2": "blip-2",
    "qwen25vl_7b": "qwen2_5_vl",
    "smolvlm": "idefics3",
    "internvl3_8b": "internvl",
    "llava15_7b": "llava",
}
SPECS = {p.stem: yaml.safe_load(p.read_text()) for p in sorted((CONF_DIR / "model").glob("*.yaml"))}
LOCAL = sorted(n for n, s in SPECS.items() if s["backend"] == "transformers")
SERVED = sorted(n for n, s in SPECS.items() if s["backend"] == "litellm" and s.get("serve"))


def _model_cfg(name: str, *overrides: str):
    return load_config(compose_raw([f"model={name}", *overrides])).model


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_local_config_has_a_stand_in_and_pins_a_commit() -> None:
    assert set(LOCAL) == set(STAND_INS)  # a new local config needs a tiny stand-in here
    for name in LOCAL:
        assert re.fullmatch(r"[0-9a-f]{40}", SPECS[name]["revision"]), name


@pytest.mark.parametrize("name", LOCAL)
def test_each_local_config_runs_on_a_tiny_stand_in_of_its_family(
    name: str, tiny_checkpoint: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    folder = tiny_checkpoint(STAND_INS[name])
    cfg = _model_cfg(name, f"model.model={folder}", "model.device=cpu", "model.dtype=float32",
                     "model.generation.max_tokens=3", "model.generation.logprobs=true")
    with caplog.at_level(logging.WARNING):
        check_ready(cfg)
    assert not caplog.records  # a local folder is what it is: no "not pinned" warning
    model = build_model(cfg, timeout_s=30)
    assert model.fingerprint()["revision"] == SPECS[name]["revision"]  # in every cache key
    prompts = probe_prompts(prompt_preset("paper"))
    image = encode_image(_picture())

    async def ask() -> Reply:
        try:
            return await model.achat(decision_messages(prompts, image),
                                     GenerationParams(max_tokens=3, logprobs=True))
        finally:
            await model.aclose()

    reply = asyncio.run(ask())
    assert isinstance(reply.text, str) and reply.yes_logprob is not None


def _picture():
    from PIL import Image

    return Image.new("RGB", (64, 48), (120, 30, 200))


def test_served_configs_talk_to_a_loopback_server_and_name_it() -> None:
    assert set(SERVED) >= {"internvl2", "cogvlm2", "deepseek_vl2"}
    for name in SERVED:
        cfg = _model_cfg(name)
        assert cfg.model.startswith("openai/") and is_loopback(cfg.api_base), name
        assert cfg.serve.split()[0] in {"vllm", "lmdeploy", "python"}, name


@pytest.mark.parametrize("name", SERVED)
def test_a_served_config_without_its_server_stops_with_the_serve_line(name: str) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    cfg = _model_cfg(name, f"model.api_base={base}")
    with pytest.raises(ConfigError) as caught:
        check_ready(cfg)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"model={name}: no server answers at {base}")
    assert message.endswith(f"start it: {cfg.serve}")


@pytest.fixture
def models_server() -> Iterator[Callable[[list[str]], str]]:
    """A loopback server whose GET /v1/models lists the names it is given."""
    servers: list[ThreadingHTTPServer] = []

    def start(names: list[str]) -> str:
        body = json.dumps({"object": "list", "data": [{"id": n} for n in names]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if self.path == "/v1/models" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_a_running_server_passes_and_a_wrong_served_name_is_named(
    models_server: Callable[[list[str]], str]
) -> None:
    base = models_server(["cogvlm2"])
    check_ready(_model_cfg("cogvlm2", f"model.api_base={base}"))
    other = models_server(["cogvlm2-19b"])  # the model's own demo server's name
    with pytest.raises(ConfigError, match=r"serves cogvlm2-19b, not 'cogvlm2'; set "
                                          r"model.model=openai/<one of those>"):
        check_ready(_model_cfg("cogvlm2", f"model.api_base={other}"))


def test_the_whole_run_stops_in_preflight_before_any_work(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    cfg = compose([f"paths.workspace={tmp_path}/ws", "tracking.enabled=false",
                   "model=deepseek_vl2", f"model.api_base={base}"])
    with pytest.raises(ConfigError, match="start it: vllm serve deepseek-ai/deepseek-vl2"):
        runner.run(cfg, output_dir=tmp_path / "out")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("model_type", "route"),
    [
        ("internvl_chat", "use model=internvl2 (it talks to a server"),
        ("cogvlm2", "use model=cogvlm2 (it talks to a server"),
        ("deepseek_vl_v2", "use model=deepseek_vl2 (it talks to a server"),
        ("mystery_vlm", "serve it (vllm serve Qwen/Qwen2.5-VL-7B-Instruct"),
    ],
)
def test_a_checkpoint_the_loader_cannot_serve_is_refused_naming_the_route(
    tmp_path: Path, model_type: str, route: str
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    cfg = _model_cfg("qwen25vl_7b", f"model.model={tmp_path}")
    with pytest.raises(ConfigError) as caught:
        check_ready(cfg)
    message = str(caught.value)
    assert f"is a '{model_type}' checkpoint, which the transformers backend cannot load" in message
    assert route in message and "\n" not in message


def test_hub_weights_not_cached_while_offline_are_refused_naming_the_download(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = _model_cfg("smolvlm", "model.model=valuespectrum-tests/never-cached-vlm")
    with pytest.raises(ConfigError, match=r"is not in the Hugging Face cache and HF_HUB_OFFLINE "
                                          r"is set; download it .*hf download "
                                          r"valuespectrum-tests/never-cached-vlm --revision 7e3e"):
        check_ready(cfg)


def test_unpinned_hub_weights_are_run_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import huggingface_hub

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "idefics3"}))
    asked: list[str | None] = []

    def cached(repo: str, filename: str, revision: str | None = None) -> str:
        asked.append(revision)  # the hub cache: the boundary faked here
        return str(config)

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", cached)
    with caplog.at_level(logging.WARNING):
        check_ready(_model_cfg("smolvlm", "model.revision=main"))
        check_ready(_model_cfg("smolvlm"))  # the shipped sha: no warning
    assert asked == ["main", SPECS["smolvlm"]["revision"]]
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "model=smolvlm: HuggingFaceTB/SmolVLM-256M-Instruct is not pinned (model.revision=main);"
        " the hub may change these weights under the same cache key: set model.revision to a "
        "commit sha"
    ]


def test_model_kwargs_cannot_duplicate_a_setting() -> None:
    with pytest.raises(ConfigError, match=r"model.model_kwargs.torch_dtype duplicates a setting; "
                                          r"use model.dtype"):
        _model_cfg("qwen25vl_7b", "+model.model_kwargs.torch_dtype=float16")


def test_hub_weights_not_cached_and_hub_unreachable_are_refused_at_once(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    cfg = _model_cfg("blip2", "model.model=valuespectrum-tests/never-cached-vlm")
    with pytest.raises(ConfigError, match=rf"and the hub at {endpoint} cannot be reached \("
                                          r".*\); download it"):
        check_ready(cfg)
