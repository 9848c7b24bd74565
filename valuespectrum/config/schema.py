"""The whole run's typed configuration, and ``load_config``: composed YAML in, validated out.

Hydra composes YAML; ``load_config`` merges it onto these dataclasses, the model node onto the
schema of its backend (config/models.py), so unknown keys, keys of another backend and wrong
types are refused, and the ``check`` methods refuse bad values. Every error is one line that names
the key and the fix, so a typo costs a second, not a half-finished sweep. Nothing here imports a
heavy library: ``python run.py --cfg job`` must stay instant.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from valuespectrum.config.errors import ConfigError
from valuespectrum.config.errors import require as _require
from valuespectrum.config.modality import check_modality
from valuespectrum.config.models import ModelConfigBase, model_schema
from valuespectrum.config.parsing import ParsingConfig
from valuespectrum.config.probe import (
    ProbeConfig,
    PromptsConfig,
    ScoringConfig,
    check_axes,
    refuse_moved_keys,
    versioned,
)
from valuespectrum.config.report import ReportConfig
from valuespectrum.config.retrieval import (
    CorpusConfig,
    EmbedderConfig,
    RetrieveConfig,
    ValueKeywordsConfig,
)
from valuespectrum.config.roleplay import (
    AgentConfig,
    InduceConfig,
    PersonaConfig,
    PlatformConfig,
    RecommenderConfig,
    StrategyConfig,
    ThresholdConfig,
    versioned_strategy,
)
from valuespectrum.values import AXIS_ORDERS

STAGES: tuple[str, ...] = ("collect", "index", "retrieve", "probe", "induce", "report")


@dataclass
class PathsConfig:
    """Where things land. Relative paths are taken from the directory you launch in."""

    workspace: str = "data/workspace"

    def workspace_path(self) -> Path:
        return Path(self.workspace).expanduser().resolve()


@dataclass
class TrackingConfig:
    enabled: bool = True
    uri: str | None = None  # default: sqlite:///<workspace>/mlflow.db
    experiment: str = "valuespectrum"

    def tracking_uri(self, workspace: Path) -> str:
        return self.uri or f"sqlite:///{workspace / 'mlflow.db'}"


@dataclass
class PlotsConfig:
    """How figures are drawn; every figure names the choice it was drawn with."""

    axis_order: str = "paper"  # radar axes clockwise from the top: paper | circumplex
    formats: list[str] = field(default_factory=lambda: ["png", "svg"])  # png first; svg | pdf

    def check(self) -> None:
        allowed = ("png", "svg", "pdf")
        _require(
            bool(self.formats) and self.formats[0] == "png"
            and set(self.formats) <= set(allowed) and len(set(self.formats)) == len(self.formats),
            f"plots.formats={list(self.formats)} is not allowed; give png first, then any of svg,"
            " pdf once each, e.g. plots.formats=[png,pdf]",
        )
        _require(
            self.axis_order in AXIS_ORDERS,
            f"plots.axis_order={self.axis_order!r} is not allowed; use one of "
            f"{', '.join(AXIS_ORDERS)} (paper = the paper's radar, circumplex = Schwartz's circle)",
        )


@dataclass
class Config:
    """The whole run. Field names are the Hydra group / key names.

    ``model`` has no default: its schema depends on the backend the model file names.
    """

    stages: list[str] = field(
        default_factory=lambda: ["collect", "index", "retrieve", "probe", "induce"]
    )
    seed: int = 0
    experiment: str | None = None  # set by experiment/*.yaml, for the record
    progress: bool = True
    paths: PathsConfig = field(default_factory=PathsConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    value_keywords: ValueKeywordsConfig = field(default_factory=ValueKeywordsConfig)
    retrieve: RetrieveConfig = field(default_factory=RetrieveConfig)
    model: ModelConfigBase = MISSING
    prompts: PromptsConfig = field(default_factory=PromptsConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    recommender: RecommenderConfig = field(default_factory=RecommenderConfig)
    persona: PersonaConfig = field(default_factory=PersonaConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    induce: InduceConfig = field(default_factory=InduceConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    parsing: ParsingConfig = field(default_factory=ParsingConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    plots: PlotsConfig = field(default_factory=PlotsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    # The modality ablation (config/modality.py): the answerer sees the image, or reads the
    # describer's description of it.
    modality: str = "image"  # image | description
    describer: str | None = None  # a conf/model/<name>.yaml that describes each screenshot
    describer_overrides: dict[str, Any] = field(default_factory=dict)  # keys of that config

    def check(self) -> None:
        bad = [s for s in self.stages if s not in STAGES]
        _require(not bad, f"stages has unknown stage(s) {bad}; use some of {list(STAGES)}")
        _require(bool(self.stages), f"stages is empty; use some of {list(STAGES)}")
        _require(len(set(self.stages)) == len(self.stages), "stages lists a stage twice")
        for name in (
            "corpus", "embedder", "value_keywords", "retrieve", "model", "prompts", "probe",
            "platform", "recommender", "persona", "strategy", "threshold", "induce", "agent",
            "scoring", "plots", "parsing", "report",
        ):
            getattr(self, name).check()
        check_modality(self)
        check_axes(self.probe, self.prompts)
        samples, temperature = self.probe.samples, self.model.generation.temperature
        _require(
            samples == 1 or temperature > 0,
            f"probe.samples={samples} asks each image {samples} times, but"
            " model.generation.temperature=0 gives the same reply each time; set"
            " model.generation.temperature>0 (e.g. 0.7) or probe.samples=1",
        )


def load_config(raw: Any) -> Config:
    """Turn a composed (Dict)Config or plain dict into a validated ``Config``.

    Unknown keys, keys of another model backend, wrong types and bad values all become a
    one-line ``ConfigError``. Reworded prompts and strategies get their own version here
    (config/presets.py).
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        if OmegaConf.is_config(raw):
            data = OmegaConf.to_container(raw, resolve=True)
        else:
            data = copy.deepcopy(raw)
        assert isinstance(data, dict)
        data.pop("hydra", None)
        refuse_moved_keys(data)
        schema = OmegaConf.structured(Config)
        schema.model = OmegaConf.structured(model_schema(data.get("model")))
        cfg = OmegaConf.to_object(OmegaConf.merge(schema, data))
    except OmegaConfBaseException as exc:
        raise ConfigError(_one_line(exc)) from None
    assert isinstance(cfg, Config)
    cfg.check()
    cfg.prompts = versioned(cfg.prompts)
    cfg.strategy = versioned_strategy(cfg.strategy)
    return cfg


def _one_line(exc: Exception) -> str:
    """Condense an OmegaConf error into one line that names the key and the fix."""
    key = getattr(exc, "full_key", None)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "MissingMandatoryValue":
        return f"{key} is required; add {key}=... on the command line"
    if "not in struct" in first or ("Key '" in first and "not in" in first):
        return f"unknown config key {key!r}; check the spelling or run `python run.py --cfg job`"
    if key:
        return f"bad value for {key}: {first}; see README 'Configuration'"
    return first
