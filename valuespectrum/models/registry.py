"""Build the configured ChatModel by backend name, and check it can run before any work.

This is the only module that branches on ``model.backend``; the config already holds that
backend's own schema (``valuespectrum.config.models``), so each branch reads only its keys.
Heavy imports stay inside each backend module; this module only chooses. The simulated
respondent needs the workspace (it perceives images through the corpus), so the caller passes a
factory that builds its perceiver; other backends never call it.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from valuespectrum.config import ConfigError, ModelConfig
from valuespectrum.models.base import ChatModel, GenerationParams

log = logging.getLogger(__name__)


def check_ready(cfg: ModelConfig, *, credentials: bool = True) -> None:
    """Raise a one-line ConfigError when the model cannot run here (retired, key, packages, a
    served model's server, a checkpoint the loader cannot load); log a warning for unpinned
    weights.

    ``credentials=False`` skips the API key and the server: a plan (``probe.plan``) calls
    nothing.
    """
    retired = cfg.retirement()
    if retired:
        raise ConfigError(retired)
    if cfg.backend == "litellm" and credentials:
        from valuespectrum.models.litellm_backend import LiteLLMModel, MissingCredentialError

        try:
            LiteLLMModel(
                cfg.name, cfg.model, api_base=cfg.api_base, api_key_env=cfg.api_key_env
            ).check_credentials()
        except MissingCredentialError as exc:
            raise ConfigError(str(exc)) from None
        if cfg.serve:  # served weights: their server runs here
            from valuespectrum.models.served import check_server

            check_server(cfg.name, cfg.model, cfg.api_base, cfg.serve)
    elif cfg.backend == "transformers":
        missing = [p for p in cfg.requires if importlib.util.find_spec(p) is None]
        if missing:
            raise ConfigError(
                f"model={cfg.name} needs {', '.join(missing)}: pip install {' '.join(missing)}"
                + (f" (or serve it: {cfg.serve})" if cfg.serve else "")
            )
        from valuespectrum.models.families import check_loadable

        for line in check_loadable(cfg.name, cfg.model, cfg.revision, cfg.serve):
            log.warning(line)


def build_model(
    cfg: ModelConfig, *, timeout_s: float, perceiver: Callable[[], Any] | None = None,
    processes: int = 0,
) -> ChatModel:
    """The ChatModel for ``cfg``; no weights are loaded and no connection is opened yet.

    litellm itself is imported here (seconds), so its import never eats into the first calls'
    timeouts. ``processes`` > 0 makes the calls of a model that allows it (``process_safe``, an
    API model) in that many worker processes (``models.spread``); other models ignore it.
    """
    model = _build(cfg, timeout_s=timeout_s, perceiver=perceiver)
    if processes > 0 and getattr(model, "process_safe", False):
        from valuespectrum.models.spread import SpreadModel

        return SpreadModel(model, processes)
    return model


def _build(cfg: ModelConfig, *, timeout_s: float, perceiver: Callable[[], Any] | None
           ) -> ChatModel:
    if cfg.backend == "litellm":
        from valuespectrum.models.litellm_backend import LiteLLMModel, import_litellm

        import_litellm()

        return LiteLLMModel(
            cfg.name,
            cfg.model,
            api_base=cfg.api_base,
            api_key_env=cfg.api_key_env,
            image_detail=cfg.image_detail,
            timeout_s=timeout_s,
            extra_params=cfg.extra_params,
            prices=(cfg.prices.input_per_mtok, cfg.prices.output_per_mtok),
            supports_vision=cfg.supports_vision,
        )
    if cfg.backend == "transformers":
        from valuespectrum.models.transformers_backend import TransformersModel

        return TransformersModel(
            cfg.name,
            cfg.model,
            revision=cfg.revision,
            device=cfg.device,
            dtype=cfg.dtype,
            trust_remote_code=cfg.trust_remote_code,
            batch_size=cfg.batch_size,
            processor_kwargs=cfg.processor_kwargs,
            model_kwargs=cfg.model_kwargs,
        )
    from valuespectrum.simulation.respondent import AnswerEffects, SimulatedRespondent

    if perceiver is None:
        raise ValueError("the simulated respondent needs a perceiver factory")
    return SimulatedRespondent(
        name=cfg.name,
        profile=cfg.profile,
        perceiver=perceiver(),
        seed=cfg.generation.seed or 0,
        version=cfg.model,
        effects=AnswerEffects(cfg.acquiescence, cfg.order_bias, cfg.wording_sensitivity),
    )


def build_role_play_model(
    cfg: ModelConfig, *, timeout_s: float, perceiver: Callable[[], Any], personas: Any
) -> ChatModel:
    """The model that plays the personas of an induce job: the configured model itself, or,
    for the simulated respondent, the SIMULATED persona respondent (it likes what the persona
    it reads from the prompt favours; its perception is the respondent's)."""
    if cfg.backend != "respondent":
        return build_model(cfg, timeout_s=timeout_s)
    from valuespectrum.simulation.persona_respondent import PersonaRespondent

    return PersonaRespondent(
        name=cfg.name,
        personas=personas,
        perceiver=perceiver(),
        seed=cfg.generation.seed or 0,
        self_profile=cfg.profile,  # how it decides with persona=none
    )


def generation_params(cfg: ModelConfig, sample: int, samples: int) -> GenerationParams:
    """Decoding settings of one sample; several samples differ by seed so each is its own call."""
    g = cfg.generation
    seed = g.seed if samples == 1 else (g.seed or 0) + sample
    return GenerationParams(
        temperature=g.temperature,
        max_tokens=g.max_tokens,
        top_p=g.top_p,
        seed=seed,
        logprobs=g.logprobs,
    )


def price_of(cfg: ModelConfig) -> Any:
    """The per-token price of an API model (``litellm_prices.Price``: litellm's map, else the
    config's ``prices``, else unknown); None for a model that runs here and costs no API call."""
    if cfg.backend != "litellm":
        return None
    from valuespectrum.models.litellm_backend import import_litellm
    from valuespectrum.models.litellm_prices import price

    return price(import_litellm(), cfg.model, input_per_mtok=cfg.prices.input_per_mtok,
                 output_per_mtok=cfg.prices.output_per_mtok)
