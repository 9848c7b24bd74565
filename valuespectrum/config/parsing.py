"""How replies to the decision question are read: the parser's mode and an optional judge.

``parsing.mode=rules`` (default) is the strict parser of ``probe.parsing``; ``prototype`` is the
paper's ``"yes" in answer.lower()``, so both scores can be set side by side. ``parsing.judge``
names a model config (conf/model/<name>.yaml, typed by the same per-backend schemas as
``model=``) that classifies only the replies the rules leave ``invalid``; its verdicts are kept
beside the rule's. ``parsing.judge_overrides`` sets keys of that model config
(``parsing.judge_overrides.api_base=http://...``) and ``parsing.judge_sample`` also sends that
share of the rule-decided replies to the judge, to measure how often the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from valuespectrum.config.errors import ConfigError, one_of, require
from valuespectrum.config.models import ModelConfigBase, model_schema
from valuespectrum.config.store import CONF_DIR
from valuespectrum.probe.parsing import PARSING_MODES


@dataclass
class ParsingConfig:
    mode: str = "rules"  # rules | prototype (the paper's "yes" in answer)
    judge: str | None = None  # a conf/model/<name>.yaml for what the rules leave invalid
    judge_overrides: dict[str, Any] = field(default_factory=dict)  # keys of that model config
    judge_sample: float = 0.0  # share of rule-decided replies also judged (agreement)

    def check(self) -> None:
        one_of("parsing.mode", self.mode, PARSING_MODES)
        require(0.0 <= self.judge_sample <= 1.0, "parsing.judge_sample must be in [0, 1]")
        if self.judge is None:
            require(
                self.judge_sample == 0 and not self.judge_overrides,
                "parsing.judge_sample and parsing.judge_overrides need a judge: set "
                "parsing.judge=<model config>, e.g. parsing.judge=gpt4o",
            )
            return
        require(
            self.mode == "rules",
            "parsing.judge classifies what the rules leave invalid and parsing.mode=prototype "
            "leaves nothing invalid: drop parsing.judge or use parsing.mode=rules",
        )
        judge_model_config(self.judge, self.judge_overrides)

    def settings(self) -> dict[str, Any]:
        """What of the parsing shapes the answers: empty for the default (the strict rules, no
        judge), so results from before this setting existed keep their keys."""
        if self.mode == "rules" and self.judge is None:
            return {}
        out: dict[str, Any] = {"mode": self.mode}
        if self.judge is not None:
            judge = judge_model_config(self.judge, self.judge_overrides)
            out["judge"] = {"name": judge.name, "model": judge.model, "sample": self.judge_sample}
        return {"parsing": out}


def judge_model_config(name: str, overrides: dict[str, Any] | None = None) -> ModelConfigBase:
    """conf/model/<name>.yaml with ``overrides``, typed and checked by its backend's schema."""
    judge = named_model_config("parsing.judge", name, overrides)
    if judge.simulated:
        raise ConfigError(
            f"parsing.judge={name} is a simulated model; a judge must read text, e.g. "
            "parsing.judge=gpt4o"
        )
    return judge


def named_model_config(
    key: str, name: str, overrides: dict[str, Any] | None = None
) -> ModelConfigBase:
    """The model config conf/model/<name>.yaml named by the setting ``key`` (``parsing.judge``,
    ``describer``), with the keys of ``<key>_overrides`` set on it, typed and checked by its
    backend's schema like ``model=``. Every error is one line naming ``key``."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = CONF_DIR / "model" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise ConfigError(f"{key}={name} is not a model config; use one of {known}")
    try:
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        assert isinstance(data, dict)
        data.pop("defaults", None)  # the schema it names is the one model_schema picks
        data = OmegaConf.to_container(OmegaConf.merge(data, dict(overrides or {})))
        schema = model_schema(data)
        model = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), data))
    except ConfigError as exc:
        raise ConfigError(f"{key}={name}: {exc}") from None
    except OmegaConfBaseException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{key}={name}: bad value in {key}_overrides: {first}") from None
    assert isinstance(model, ModelConfigBase)
    model.check()
    return model
