"""Model schemas: one dataclass per backend, so a setting of one backend is refused on another.

``load_config`` reads ``model.backend`` from the composed YAML and merges the model node onto
the schema ``MODEL_SCHEMAS`` names for it: ``model=gpt4o model.device=cuda`` fails in one line
instead of silently running an API model with a device that nothing reads. Fields shared by all
backends live on ``ModelConfigBase``; the rest is the backend's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from omegaconf import MISSING

from valuespectrum.config.errors import ConfigError, one_of, require
from valuespectrum.roster import retirement_message
from valuespectrum.values import VALUES


@dataclass
class GenerationConfig:
    """Decoding settings of every call; they enter each call's cache key."""

    temperature: float = 0.0
    max_tokens: int = 300
    top_p: float | None = None
    seed: int | None = None
    logprobs: bool = False

    def check(self) -> None:
        require(0.0 <= self.temperature <= 2.0, "model.generation.temperature must be in [0, 2]")
        require(self.max_tokens > 0, "model.generation.max_tokens must be > 0")


@dataclass
class ModelConfigBase:
    """What every model file says: who it is, how it is named, how it decodes.

    ``name``, ``model`` and ``label`` have no default: each conf/model/<name>.yaml gives them.
    """

    # How the backend's own keys are described when another backend is given one of them.
    KIND: ClassVar[str] = ""
    EXAMPLE: ClassVar[str] = ""  # a shipped conf/model option of this backend
    simulated: ClassVar[bool] = False  # a known-truth fake, never to be mistaken for a VLM

    name: str = MISSING
    backend: str = MISSING  # litellm | transformers | respondent: picks the schema
    model: str = MISSING  # litellm model string, hub id / local folder, or simulator version
    label: str = MISSING  # how plots and tables name the model
    notes: str = ""
    # How to start the server this model runs behind (API configs of served weights), or the
    # better-throughput route for local weights; pre-flight names it when a server is absent.
    serve: str | None = None
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    # The day the provider shut this id down (YYYY-MM-DD), and the config to use instead.
    # Pre-flight refuses a retired model before any work; model.retired=null tries it anyway.
    retired: str | None = None
    successor: str | None = None

    @property
    def true_profile(self) -> dict[str, float] | None:
        """The known profile (% yes per value) of a simulated model; None for a real one."""
        return None

    @property
    def needs_clip(self) -> bool:
        """Whether probing this model embeds with the CLIP embedder (pre-flight checks weights)."""
        return False

    def check(self) -> None:
        require(bool(self.model), f"model.model is empty for model={self.name}; set it")
        self.generation.check()
        if self.retired is not None:
            try:
                dt.date.fromisoformat(str(self.retired))
            except ValueError:
                raise ConfigError(
                    f"model.retired={self.retired} for model={self.name} must be a date "
                    "YYYY-MM-DD (or null)"
                ) from None
            require(bool(self.successor), f"model={self.name} is retired: give model.successor "
                                          "(the config to use instead)")

    def retirement(self) -> str | None:
        """The one-line refusal for a retired model, or None while it runs."""
        if self.retired is None:
            return None
        return retirement_message(self.name, self.model, str(self.retired), self.successor)


@dataclass
class PricesConfig:
    """USD per million tokens, for a model litellm's price map does not price."""

    input_per_mtok: float | None = None
    output_per_mtok: float | None = None

    def check(self) -> None:
        for key in ("input_per_mtok", "output_per_mtok"):
            value = getattr(self, key)
            require(value is None or value >= 0, f"model.prices.{key} must be >= 0 (or null)")


@dataclass
class ApiModelConfig(ModelConfigBase):
    """A model behind an API, called through litellm (also any OpenAI-compatible server)."""

    KIND: ClassVar[str] = "API-call"
    EXAMPLE: ClassVar[str] = "gpt4o"

    backend: str = "litellm"
    api_base: str | None = None
    api_key_env: str | None = None  # the environment variable holding the key
    image_detail: str = "high"
    # Where litellm's bundled map lacks the id (or its price): registered with litellm, so
    # system prompts, images and cost are handled as for a known id. The map wins where it knows.
    prices: PricesConfig = field(default_factory=PricesConfig)
    supports_vision: bool | None = None
    # Passed to litellm as they are (e.g. reasoning_effort); they enter the cache key.
    extra_params: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        one_of("model.image_detail", self.image_detail, ("high", "low", "auto"))
        self.prices.check()


@dataclass
class LocalModelConfig(ModelConfigBase):
    """Open weights run in this process with transformers."""

    KIND: ClassVar[str] = "local-weights"
    EXAMPLE: ClassVar[str] = "smolvlm"

    backend: str = "transformers"
    revision: str | None = None
    device: str = "cpu"
    dtype: str = "float32"
    trust_remote_code: bool = False
    batch_size: int = 4
    requires: list[str] = field(default_factory=list)  # extra pip packages the model needs
    memory_gb: float | None = None  # rough weight memory, for planning
    # Passed to from_pretrained: the model's (device_map, attn_implementation, ...) and the
    # processor's (image limits: Qwen2.5-VL size.{shortest,longest}_edge, Idefics3 size).
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    processor_kwargs: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        one_of("model.dtype", self.dtype, ("float32", "bfloat16", "float16", "auto"))
        require(self.batch_size > 0, "model.batch_size must be > 0")
        for key in self.model_kwargs:
            own = _OWN_LOAD_KEYS.get(key)
            require(own is None, f"model.model_kwargs.{key} duplicates a setting; use model.{own}")


# from_pretrained arguments that have their own model setting (one source of truth each).
_OWN_LOAD_KEYS = {
    "revision": "revision",
    "dtype": "dtype",
    "torch_dtype": "dtype",
    "trust_remote_code": "trust_remote_code",
}


@dataclass
class SimulatedModelConfig(ModelConfigBase):
    """The simulated respondent: a known profile, perceived through captions and/or CLIP."""

    KIND: ClassVar[str] = "simulated-respondent"
    EXAMPLE: ClassVar[str] = "respondent"
    simulated: ClassVar[bool] = True

    backend: str = "respondent"
    profile: dict[str, float] = MISSING  # its true % yes per value: all ten
    perceive: str = "caption"  # caption | clip | both | oracle (the demo image's known theme)
    generation: GenerationConfig = MISSING  # its sampling is part of the simulation: in YAML
    # Known answering effects (points of p(yes); respondent.py): 0 = none, the defaults.
    acquiescence: float = 0.0  # added to p(yes) of any question
    order_bias: float = 0.0  # towards the option the question names first
    wording_sensitivity: float = 0.0  # sd of a per-wording shift of p(like)

    @property
    def true_profile(self) -> dict[str, float] | None:
        return dict(self.profile)

    @property
    def needs_clip(self) -> bool:
        return self.perceive in ("clip", "both")  # it perceives images through CLIP vectors too

    def check(self) -> None:
        super().check()
        one_of("model.perceive", self.perceive, ("caption", "clip", "both", "oracle"))
        for value, p in self.profile.items():
            require(
                value in VALUES,
                f"model.profile has unknown value {value!r}; use ids from {list(VALUES)}",
            )
            require(0 <= p <= 100, f"model.profile.{value}={p} must be a percentage 0..100")
        for effect in ("acquiescence", "order_bias", "wording_sensitivity"):
            points = getattr(self, effect)
            require(-100 <= points <= 100 and (effect != "wording_sensitivity" or points >= 0),
                    f"model.{effect}={points} must be points of p(yes) in [-100, 100]"
                    " (wording_sensitivity >= 0), e.g. 15")  # fmt: skip
        missing = [v for v in VALUES if v not in self.profile]
        require(not missing, f"model={self.name}: model.profile must give all ten values "
                             f"(missing {', '.join(missing)})")


MODEL_SCHEMAS: dict[str, type[ModelConfigBase]] = {
    "litellm": ApiModelConfig,
    "transformers": LocalModelConfig,
    "respondent": SimulatedModelConfig,
}

# What the rest of the package accepts as ``cfg.model``.
ModelConfig = ApiModelConfig | LocalModelConfig | SimulatedModelConfig


def model_schema(node: Any) -> type[ModelConfigBase]:
    """The schema of a composed ``model`` node, chosen by its backend; its keys are checked.

    A key of another backend is refused naming where it applies; an unknown key, listing the
    backend's settings.
    """
    if not isinstance(node, dict):
        raise ConfigError("model is required; pick model=<name> from conf/model/")
    backend = node.get("backend")
    one_of(
        "model.backend", backend, tuple(MODEL_SCHEMAS), " (pick a model=<name> from conf/model/)"
    )
    schema = MODEL_SCHEMAS[backend]
    own = _field_names(schema)
    name = node.get("name", "?")
    for key in node:
        if key in own:
            continue
        for other_backend, other in MODEL_SCHEMAS.items():
            if key in _field_names(other):
                raise ConfigError(
                    f"model.{key} is not a setting of model={name} (backend {backend}); "
                    f"{other.KIND} keys apply to {other_backend} models such as "
                    f"model={other.EXAMPLE}"
                )
        raise ConfigError(
            f"unknown config key 'model.{key}' for model={name} (backend {backend}); "
            f"its settings are {', '.join(sorted(own))}"
        )
    return schema


def _field_names(schema: type) -> set[str]:
    return {f.name for f in fields(schema)}
