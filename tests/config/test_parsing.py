"""The parsing section: its mode, the judge as a typed model config, and refusals in one line."""

from __future__ import annotations

import re

import pytest

from tests.conftest import compose_raw
from valuespectrum.config import ApiModelConfig, ConfigError, judge_model_config, load_config


def _load(*overrides: str):
    return load_config(compose_raw(list(overrides)))


def test_default_parsing_is_the_strict_rules_without_a_judge() -> None:
    cfg = _load()
    assert (cfg.parsing.mode, cfg.parsing.judge, cfg.parsing.judge_sample) == ("rules", None, 0.0)
    assert cfg.parsing.settings() == {}  # so results from before keep their keys


def test_judge_is_a_model_config_typed_by_its_backends_schema() -> None:
    cfg = _load("parsing.judge=gpt4o", "parsing.judge_sample=0.1")
    judge = judge_model_config(cfg.parsing.judge, cfg.parsing.judge_overrides)
    assert type(judge) is ApiModelConfig
    assert (judge.name, judge.model, judge.api_key_env) == (
        "gpt4o", "openai/gpt-4o-2024-08-06", "OPENAI_API_KEY",
    )  # fmt: skip
    settings = cfg.parsing.settings()["parsing"]
    assert settings == {"mode": "rules", "judge": {"name": "gpt4o",
                        "model": "openai/gpt-4o-2024-08-06", "sample": 0.1}}


def test_judge_overrides_set_keys_of_the_judge_config() -> None:
    cfg = _load(
        "parsing.judge=openai_compatible",
        "+parsing.judge_overrides.api_base=http://127.0.0.1:9/v1",
        "+parsing.judge_overrides.model=openai/judge",
    )
    judge = judge_model_config(cfg.parsing.judge, cfg.parsing.judge_overrides)
    assert (judge.api_base, judge.model) == ("http://127.0.0.1:9/v1", "openai/judge")
    assert _load("parsing.mode=prototype").parsing.settings() == {"parsing": {"mode": "prototype"}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["parsing.mode=strict"], "parsing.mode='strict' is not allowed; use one of rules"),
        (["parsing.judge=gpt5"], "parsing.judge=gpt5 is not a model config; use one of"),
        (["parsing.judge=respondent"], "is a simulated model; a judge must read text"),
        (["parsing.judge=gpt4o", "parsing.mode=prototype"], "drop parsing.judge or use"),
        (["parsing.judge_sample=0.5"], "need a judge: set parsing.judge=<model config>"),
        (["parsing.judge=gpt4o", "parsing.judge_sample=2"], "parsing.judge_sample must be in"),
        (["parsing.judge=gpt4o", "+parsing.judge_overrides.device=cuda"],
         "parsing.judge=gpt4o: model.device is not a setting of model=gpt4o"),
    ],
)
def test_bad_parsing_settings_are_refused_in_one_line(overrides, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        _load(*overrides)
    assert "\n" not in str(caught.value)


def test_oracle_perception_is_a_respondent_setting_that_needs_no_clip() -> None:
    model = _load("model.perceive=oracle").model
    assert model.perceive == "oracle" and not model.needs_clip
    assert _load("model.perceive=both").model.needs_clip
    with pytest.raises(ConfigError, match=r"model\.perceive='pixels' is not allowed"):
        _load("model.perceive=pixels")


def test_experiment_files_win_over_the_defaults() -> None:
    cfg = _load("experiment=known_truth")
    assert (cfg.model.perceive, cfg.retrieve.caption_weight, cfg.probe.samples) == (
        "oracle", 1.0, 10,
    )  # fmt: skip
    assert _load("experiment=paper_preference", "model=gpt4o").retrieve.caption_weight == 0.0
