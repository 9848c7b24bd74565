"""Typed run configuration: one dataclass per Hydra group, validated before any work.

Hydra composes YAML; ``load_config`` merges that onto these dataclasses (unknown keys are refused)
and the ``__post_init__`` checks refuse bad values. Every error is one line that names the key and
the fix, so a typo costs a second, not a half-finished sweep. Nothing here imports a heavy library:
``python run.py --cfg job`` must stay instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.values import AXIS_ORDERS, VALUES

STAGES: tuple[str, ...] = ("collect", "index", "retrieve", "probe", "induce", "report")


class ConfigError(ValueError):
    """A configuration that cannot run; the message is one line naming the fix."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _one_of(key: str, value: Any, allowed: tuple[str, ...], hint: str = "") -> None:
    _require(
        value in allowed,
        f"{key}={value!r} is not allowed; use one of {', '.join(allowed)}{hint}",
    )


@dataclass
class PathsConfig:
    """Where things land. Relative paths are taken from the directory you launch in."""

    workspace: str = "data/workspace"

    def workspace_path(self) -> Path:
        return Path(self.workspace).expanduser().resolve()


@dataclass
class CorpusConfig:
    """The offline screenshot source for ``collect`` (browser platforms come via ``platform``)."""

    name: str = "demo"
    source: str = "demo"  # demo | folder
    path: str | None = None  # folder to ingest (source=folder)
    n: int = 300  # demo images
    seed: int = 0
    width: int = 288
    height: int = 512
    platform: str | None = None  # platform label for folder images without sidecar metadata
    max_pixels: int = 50_000_000  # larger images are rejected as decompression bombs
    recursive: bool = True
    max_file_mb: int = 200  # larger files (10^6 bytes per MB) are rejected unread as too_large
    follow_symlinks: str = "inside"  # inside | all | none

    def check(self) -> None:
        _one_of("corpus.source", self.source, ("demo", "folder"))
        if self.source == "folder":
            _require(
                bool(self.path),
                "corpus=folder needs corpus.path=DIR (a folder of images)",
            )
        _require(self.n > 0, f"corpus.n={self.n} must be > 0")
        _require(
            self.width >= 32 and self.height >= 32,
            "corpus.width/height must be >= 32 pixels",
        )
        _require(self.max_pixels > 0, "corpus.max_pixels must be > 0")
        _require(
            self.max_file_mb > 0,
            f"corpus.max_file_mb={self.max_file_mb} must be > 0 (the largest file to read, in MB)",
        )
        _one_of(
            "corpus.follow_symlinks",
            self.follow_symlinks,
            ("inside", "all", "none"),
            " (inside: only links whose target is inside corpus.path)",
        )


@dataclass
class EmbedderConfig:
    """The CLIP model that embeds screenshots and keyword queries (open_clip)."""

    name: str = "tiny_clip"
    arch: str = "tiny_clip"
    pretrained: str | None = None  # open_clip pretrained tag; None = random init from init_seed
    model_config: str | None = None  # packaged or local JSON config for a custom architecture
    init_seed: int = 0
    device: str = "cpu"
    batch_size: int = 32
    prefetch: int = 2
    caption_encoder: str | None = "minilm"  # None: captions are not embedded

    def check(self) -> None:
        _require(self.batch_size > 0, f"embedder.batch_size={self.batch_size} must be > 0")
        _require(self.prefetch >= 1, f"embedder.prefetch={self.prefetch} must be >= 1")
        if self.caption_encoder is not None:
            _one_of("embedder.caption_encoder", self.caption_encoder, ("minilm",), " or null")


@dataclass
class ValueEntry:
    rationale: str = ""
    keywords: list[str] = field(default_factory=list)


@dataclass
class ValueKeywordsConfig:
    """Keywords per Schwartz value: the retrieval queries (paper.md section 3)."""

    name: str = "schwartz"
    source: str = ""
    values: dict[str, ValueEntry] = field(default_factory=dict)

    def check(self) -> None:
        unknown = sorted(set(self.values) - set(VALUES))
        _require(
            not unknown,
            f"value_keywords.values has unknown value(s) {unknown}; use ids from {list(VALUES)}",
        )
        _require(bool(self.values), "value_keywords.values is empty; pick value_keywords=schwartz")
        for value, entry in self.values.items():
            kws = [k.strip() for k in entry.keywords]
            _require(
                all(kws),
                f"value_keywords.values.{value}.keywords has an empty keyword; remove it",
            )
            _require(
                len(set(kws)) == len(kws),
                f"value_keywords.values.{value}.keywords repeats a keyword; remove the duplicate",
            )
            _require(bool(kws), f"value_keywords.values.{value}.keywords is empty; add keywords")


@dataclass
class RetrieveConfig:
    k: int = 5  # screenshots per keyword (the paper's 5)
    caption_weight: float = 0.0  # 0 = the paper's pure image retrieval

    def check(self) -> None:
        _require(1 <= self.k <= 100, f"retrieve.k={self.k} must be between 1 and 100")
        _require(
            0.0 <= self.caption_weight <= 1.0,
            f"retrieve.caption_weight={self.caption_weight} must be between 0 and 1",
        )


@dataclass
class GenerationConfig:
    temperature: float = 0.0
    max_tokens: int = 300
    top_p: float | None = None
    seed: int | None = None
    logprobs: bool = False

    def check(self) -> None:
        _require(0.0 <= self.temperature <= 2.0, "model.generation.temperature must be in [0, 2]")
        _require(self.max_tokens > 0, "model.generation.max_tokens must be > 0")


@dataclass
class ModelConfig:
    """A VLM under test. ``backend`` picks the implementation; the rest is its settings."""

    name: str = "respondent"
    backend: str = "respondent"  # litellm | transformers | respondent
    model: str = ""  # litellm model string, or hub id / local folder for transformers
    label: str = ""  # how plots and tables name the model
    api_base: str | None = None
    api_key_env: str | None = None
    image_detail: str = "high"
    revision: str | None = None
    device: str = "cpu"
    dtype: str = "float32"
    trust_remote_code: bool = False
    batch_size: int = 4
    requires: list[str] = field(default_factory=list)  # extra pip packages the model needs
    memory_gb: float | None = None  # rough weight memory, for planning
    serve: str | None = None  # how to serve it with vLLM when that is the better route
    notes: str = ""
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    # Simulated respondent only: its true profile (% yes per value) and how it perceives images.
    profile: dict[str, float] = field(default_factory=dict)
    perceive: str = "caption"  # caption | clip | both
    simulated: bool = False

    def check(self) -> None:
        _one_of(
            "model.backend",
            self.backend,
            ("litellm", "transformers", "respondent"),
            " (pick a model=<name> from conf/model/)",
        )
        _one_of("model.dtype", self.dtype, ("float32", "bfloat16", "float16", "auto"))
        _one_of("model.perceive", self.perceive, ("caption", "clip", "both"))
        _require(self.batch_size > 0, "model.batch_size must be > 0")
        self.generation.check()
        _require(
            bool(self.model) or self.simulated,
            f"model.model is empty for model={self.name}; set it",
        )
        for value, p in self.profile.items():
            _require(
                value in VALUES,
                f"model.profile has unknown value {value!r}; use ids from {list(VALUES)}",
            )
            _require(0 <= p <= 100, f"model.profile.{value}={p} must be a percentage 0..100")


@dataclass
class ProbeConfig:
    """How the preference probe calls the model (paper.md section 4)."""

    prompts: str = "paper"  # paper | prototype: which wording preset
    # Override any preset wording: system, decision, why, describe (changes the cache key).
    text: dict[str, str | None] = field(default_factory=dict)
    ask_why: bool = True
    describe: bool = False
    samples: int = 1
    concurrency: int = 16
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    max_error_rate: float = 0.2  # of the whole job (cached answers and earlier failures count)
    retry_failed: bool = False  # ask again calls whose final failure was about the item
    max_failed_runs: int = 3  # never ask a call again after it failed in this many runs
    image_max_side: int | None = 768
    image_size: list[int] | None = None  # [width, height]; [144, 256] = the prototype's resize
    n_boot: int = 2000

    def check(self) -> None:
        _one_of("probe.prompts", self.prompts, ("paper", "prototype"))
        bad = sorted(set(self.text) - {"system", "decision", "why", "describe"})
        _require(not bad, f"probe.text has unknown key(s) {bad}; use system/decision/why/describe")
        _require(self.samples >= 1, "probe.samples must be >= 1")
        _require(self.concurrency >= 1, "probe.concurrency must be >= 1")
        _require(self.timeout_s > 0, "probe.timeout_s must be > 0")
        _require(self.max_retries >= 0, "probe.max_retries must be >= 0")
        _require(0 <= self.max_error_rate <= 1, "probe.max_error_rate must be in [0, 1]")
        _require(self.max_failed_runs >= 1, "probe.max_failed_runs must be >= 1")
        if self.image_size is not None:
            _require(
                len(self.image_size) == 2 and min(self.image_size) > 0,
                "probe.image_size must be [width, height], e.g. [144, 256]",
            )


@dataclass
class PlatformConfig:
    """A short-video feed the agent scrolls (browser collection and induction)."""

    name: str = "localfeed"
    kind: str = "local"  # web | local
    feed_url: str = ""
    stay_s: float = 5.0  # dwell on a liked video (paper: 5 s in examples, 30 s in the prototype)
    swipe_pause_s: float = 1.0
    notes: str = ""

    def check(self) -> None:
        _one_of("platform.kind", self.kind, ("web", "local"))
        _require(self.stay_s >= 0 and self.swipe_pause_s >= 0, "platform waits must be >= 0")


@dataclass
class PersonaConfig:
    """Persona-Chat style profiles for role-play (paper.md section 6)."""

    name: str = "default"
    path: str | None = None  # a Persona-Chat file (one trait per line); overrides profiles
    profiles: list[list[str]] = field(default_factory=list)

    def check(self) -> None:
        _require(
            bool(self.profiles) or bool(self.path),
            "persona needs profiles or persona.path=FILE",
        )
        for i, traits in enumerate(self.profiles):
            _require(
                1 <= len(traits) <= 10,
                f"persona.profiles[{i}] must have 1..10 traits",
            )


@dataclass
class StrategyConfig:
    """How a persona decides to stay or swipe: the paper's Simple or ISQ strategy."""

    name: str = "simple"
    kind: str = "simple"  # simple | isq
    videos: int = 50  # videos per session
    window: int = 10  # videos per window for I_avg (first vs last window)

    def check(self) -> None:
        _one_of("strategy.kind", self.kind, ("simple", "isq"))
        _require(self.videos > 0, "strategy.videos must be > 0")
        _require(
            0 < self.window <= self.videos,
            "strategy.window must be between 1 and strategy.videos",
        )


@dataclass
class ThresholdConfig:
    name: str = "paper"
    isq_percent: float = 60.0  # stay when S% > this (paper: 60)

    def check(self) -> None:
        _require(0 <= self.isq_percent <= 100, "threshold.isq_percent must be in [0, 100]")


@dataclass
class TrackingConfig:
    enabled: bool = True
    uri: str | None = None  # default: sqlite:///<workspace>/mlflow.db
    experiment: str = "valuespectrum"

    def tracking_uri(self, workspace: Path) -> str:
        return self.uri or f"sqlite:///{workspace / 'mlflow.db'}"


@dataclass
class ScoringConfig:
    hedonism_in: str = "openness_to_change"

    def check(self) -> None:
        _one_of(
            "scoring.hedonism_in",
            self.hedonism_in,
            ("openness_to_change", "self_enhancement"),
        )


@dataclass
class PlotsConfig:
    """How figures are drawn; every figure names the choice it was drawn with."""

    axis_order: str = "paper"  # radar axes clockwise from the top: paper | circumplex

    def check(self) -> None:
        _one_of(
            "plots.axis_order",
            self.axis_order,
            tuple(AXIS_ORDERS),
            " (paper = the paper's radar, circumplex = Schwartz's circle)",
        )


@dataclass
class Config:
    """The whole run. Field names are the Hydra group / key names."""

    stages: list[str] = field(
        default_factory=lambda: ["collect", "index", "retrieve", "probe"]
    )
    seed: int = 0
    experiment: str | None = None  # set by experiment/*.yaml, for the record
    progress: bool = True
    paths: PathsConfig = field(default_factory=PathsConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    value_keywords: ValueKeywordsConfig = field(default_factory=ValueKeywordsConfig)
    retrieve: RetrieveConfig = field(default_factory=RetrieveConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    persona: PersonaConfig = field(default_factory=PersonaConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    plots: PlotsConfig = field(default_factory=PlotsConfig)

    def check(self) -> None:
        bad = [s for s in self.stages if s not in STAGES]
        _require(not bad, f"stages has unknown stage(s) {bad}; use some of {list(STAGES)}")
        _require(bool(self.stages), f"stages is empty; use some of {list(STAGES)}")
        _require(len(set(self.stages)) == len(self.stages), "stages lists a stage twice")
        for name in (
            "corpus", "embedder", "value_keywords", "retrieve", "model", "probe",
            "platform", "persona", "strategy", "threshold", "scoring", "plots",
        ):
            getattr(self, name).check()


def load_config(raw: Any) -> Config:
    """Turn a composed (Dict)Config or plain dict into a validated ``Config``.

    Unknown keys, wrong types and bad values all become a one-line ``ConfigError``.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        data = OmegaConf.to_container(raw, resolve=True) if OmegaConf.is_config(raw) else raw
        assert isinstance(data, dict)
        data.pop("hydra", None)
        merged = OmegaConf.merge(OmegaConf.structured(Config), data)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(_one_line(exc)) from None
    assert isinstance(cfg, Config)
    cfg.check()
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
