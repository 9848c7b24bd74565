"""Fixtures for the model-backend tests: the loopback server and a real litellm client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer, fake_openai_server
from valuespectrum.models.litellm_backend import LiteLLMModel, import_litellm

__all__ = ["fake_openai_server", "litellm_imported", "make_model", "tiny_checkpoint"]

KEY_ENV = "VALUESPECTRUM_TEST_FAKE_KEY"  # the variable make_model's models read their key from


@pytest.fixture(scope="session")
def litellm_imported() -> None:
    """Import litellm once, before any timed call: the import alone outlasts a test timeout."""
    import_litellm()


@pytest.fixture
def make_model(monkeypatch: pytest.MonkeyPatch, litellm_imported: None
               ) -> Callable[..., LiteLLMModel]:
    """Build a ``LiteLLMModel`` for the fake server, its key (the canary) in the environment."""
    monkeypatch.setenv(KEY_ENV, CANARY_KEY)

    def make(server: FakeOpenAIServer, **kw: Any) -> LiteLLMModel:
        kw.setdefault("api_key_env", KEY_ENV)
        kw.setdefault("timeout_s", 5.0)
        return LiteLLMModel("fake", "openai/fake-vlm", api_base=server.base_url, **kw)

    return make


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """``tiny_checkpoint(model_type)``: a tiny random checkpoint folder of that family, built
    once per session (tests.fakes.tiny_families.BUILDERS)."""
    import torch

    from tests.fakes.tiny_families import BUILDERS

    built: dict[str, Path] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 0.1 M-parameter models gain nothing from intra-op threads

    def get(model_type: str) -> Path:
        if model_type not in built:
            folder = tmp_path_factory.mktemp(f"tiny-{model_type}")
            built[model_type] = BUILDERS[model_type](folder, seed=0)
        return built[model_type]

    try:
        yield get
    finally:
        torch.set_num_threads(threads)
