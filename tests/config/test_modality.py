"""The modality ablation's settings: a describer as a typed model config, refusals in one line."""

from __future__ import annotations

import re

import pytest

from tests.conftest import compose_raw
from valuespectrum.config import (
    ApiModelConfig,
    ConfigError,
    SimulatedModelConfig,
    describer_model_config,
    load_config,
)
from valuespectrum.config.modality import check_unused_describer


def _load(*overrides: str):
    return load_config(compose_raw(list(overrides)))


def test_default_is_the_image_without_a_describer() -> None:
    cfg = _load()
    assert (cfg.modality, cfg.describer, cfg.describer_overrides) == ("image", None, {})
    assert "{description}" in cfg.prompts.text_decision


def test_the_describer_is_a_model_config_with_its_overrides() -> None:
    cfg = _load("modality=description", "describer=openai_compatible",
                "+describer_overrides.api_base=http://127.0.0.1:9/v1",
                "+describer_overrides.model=openai/describer")
    describer = describer_model_config(cfg.describer, cfg.describer_overrides)
    assert type(describer) is ApiModelConfig
    assert (describer.api_base, describer.model) == ("http://127.0.0.1:9/v1", "openai/describer")
    offline = _load("modality=description", "describer=respondent")
    assert type(describer_model_config(offline.describer)) is SimulatedModelConfig


@pytest.mark.parametrize("preset", ["paper", "prototype"])
def test_every_preset_asks_the_text_question_about_the_description(preset) -> None:
    cfg = _load(f"prompts={preset}", "modality=description", "describer=respondent")
    assert cfg.prompts.text_decision.count("{description}") == 1
    assert cfg.prompts.version == f"{preset}-v1"  # the image-modality cache keys are untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["modality=text"], "modality='text' is not allowed; use one of image, description"),
        (["modality=description"], "modality=description needs a model that describes each "
         "screenshot: set describer=<model config>, e.g. describer=gpt4o"),
        (["modality=description", "describer=gpt5"],
         "describer=gpt5 is not a model config; use one of"),
        (["modality=description", "describer=gpt4o", "+describer_overrides.device=cuda"],
         "describer=gpt4o: model.device is not a setting of model=gpt4o"),
        (["modality=description", "describer=gpt4o", "prompts.text_decision=Do you like it?"],
         "prompts.text_decision, which must hold {description}"),
        (["modality=description", "describer=gpt4o", "probe.describe=true"], "drop probe.describe"),
        (["+describer_overrides.model=x"], "describer_overrides needs a describer"),
    ],
)
def test_bad_modality_settings_are_refused_in_one_line(overrides, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        _load(*overrides)
    assert "\n" not in str(caught.value)


def test_a_describer_with_the_image_is_refused_unless_the_modality_is_swept() -> None:
    cfg = _load("describer=gpt4o")  # composes: the refusal needs to know about a sweep
    with pytest.raises(ConfigError, match=r"describer=gpt4o is only used with "
                                          r"modality=description; add modality=description"):
        check_unused_describer(cfg)
    with pytest.raises(ConfigError, match="only used with modality=description"):
        check_unused_describer(cfg, swept=["model"])
    check_unused_describer(cfg, swept=["modality", "model"])  # the sweep's image baseline


def test_a_describer_without_its_key_stops_before_any_work(tmp_path, monkeypatch) -> None:
    from valuespectrum import runner
    from valuespectrum.cli import compose

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = compose([f"paths.workspace={tmp_path}/ws", "modality=description", "describer=gpt4o",
                   "tracking.enabled=false"])
    with pytest.raises(ConfigError, match=r"describer=gpt4o: set OPENAI_API_KEY"):
        runner.run(cfg, output_dir=tmp_path / "out")
    with pytest.raises(ConfigError, match="only used with modality=description"):
        runner.run(compose([f"paths.workspace={tmp_path}/ws", "describer=respondent",
                            "tracking.enabled=false"]), output_dir=tmp_path / "out")
    assert not (tmp_path / "ws").exists()


def test_a_simulated_answerer_without_a_caption_encoder_is_refused_before_any_work() -> None:
    import pytest

    from valuespectrum.cli import compose
    from valuespectrum.config import ConfigError

    with pytest.raises(ConfigError, match=r"embedder\.caption_encoder=minilm"):
        compose(["modality=description", "describer=respondent", "embedder.caption_encoder=null"])
