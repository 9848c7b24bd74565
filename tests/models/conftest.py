"""Fixtures for the model-backend tests: the loopback server and a real litellm client for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer, fake_openai_server
from valuespectrum.models.litellm_backend import LiteLLMModel, import_litellm

__all__ = ["fake_openai_server", "litellm_imported", "make_model"]

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
