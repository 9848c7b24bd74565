"""One schema per model backend: each model file gets its backend's settings and only those."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest
import yaml

from tests.conftest import CONF_DIR, compose_raw
from valuespectrum.config import (
    MODEL_SCHEMAS,
    ApiModelConfig,
    ConfigError,
    LocalModelConfig,
    ModelConfigBase,
    SimulatedModelConfig,
    load_config,
)
from valuespectrum.config.store import MODEL_SCHEMA_NAMES

MODEL_FILES = sorted((CONF_DIR / "model").glob("*.yaml"))


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_every_model_file_extends_the_schema_of_its_backend(path) -> None:
    spec = yaml.safe_load(path.read_text())
    backend = spec["backend"]
    assert spec["defaults"][0] == {"/schema/model@_here_": MODEL_SCHEMA_NAMES[backend]}, path.name
    model = load_config(compose_raw([f"model={path.stem}"])).model
    assert type(model) is MODEL_SCHEMAS[backend]
    assert model.simulated == (backend == "respondent")
    assert (model.true_profile is not None) == model.simulated


def test_each_backend_names_a_shipped_example_of_itself() -> None:
    for backend, schema in MODEL_SCHEMAS.items():
        spec = yaml.safe_load((CONF_DIR / "model" / f"{schema.EXAMPLE}.yaml").read_text())
        assert spec["backend"] == backend
        assert schema.KIND


def test_backends_share_only_the_base_fields() -> None:
    base = {f.name for f in fields(ModelConfigBase)}
    own = {b: {f.name for f in fields(s)} - base for b, s in MODEL_SCHEMAS.items()}
    for a in own:
        for b in own:
            assert a == b or not own[a] & own[b], (a, b, own[a] & own[b])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=gpt4o", "model.device=cuda"],
         "model.device is not a setting of model=gpt4o (backend litellm); local-weights keys "
         "apply to transformers models such as model=smolvlm"),
        (["model=smolvlm", "+model.api_key_env=X"],
         "model.api_key_env is not a setting of model=smolvlm (backend transformers); API-call "
         "keys apply to litellm models such as model=gpt4o"),
        (["model=claude", "model.perceive=clip"],
         "model.perceive is not a setting of model=claude (backend litellm); "
         "simulated-respondent keys apply to respondent models such as model=respondent"),
        (["model.batch_size=2"], "model.batch_size is not a setting of model=respondent"),
        (["model=gpt4o", "model.simulated=true"], "unknown config key 'model.simulated' for "
         "model=gpt4o (backend litellm); its settings are api_base, api_key_env, backend,"),
    ],
)
def test_a_key_no_backend_code_reads_is_refused_naming_the_fix(overrides, message) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(compose_raw(overrides))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_every_setting_of_the_backend_is_overridable_without_plus() -> None:
    # The model files give only what they change; the schema in their defaults list gives the
    # rest, so these keys exist in the composed config although no YAML names them.
    local = load_config(compose_raw(["model=smolvlm", "model.revision=abc123"])).model
    assert isinstance(local, LocalModelConfig) and local.revision == "abc123"
    api = load_config(compose_raw(["model=gpt4o", "model.api_base=http://127.0.0.1:9/v1"])).model
    assert isinstance(api, ApiModelConfig) and api.api_base == "http://127.0.0.1:9/v1"


def test_the_recorded_config_holds_only_the_backends_keys() -> None:
    recorded = asdict(load_config(compose_raw(["model=gpt4o"])).model)
    assert {"device", "dtype", "batch_size", "profile", "perceive"}.isdisjoint(recorded)
    assert recorded["api_key_env"] == "OPENAI_API_KEY"
    simulated = load_config(compose_raw()).model
    assert isinstance(simulated, SimulatedModelConfig)
    assert "api_base" not in asdict(simulated) and len(simulated.profile) == 10


def test_a_model_without_backend_or_model_node_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"model\.backend=None is not allowed"):
        load_config(compose_raw(["~model.backend"]))
    with pytest.raises(ConfigError, match="model is required; pick model=<name>"):
        load_config(compose_raw(["~model"]))
