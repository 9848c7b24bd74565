"""The modality ablation's settings: does the answerer see the image, or read a description?

``modality=image`` (default) is the paper's probe. ``modality=description`` asks the
``describer`` (a model config, conf/model/<name>.yaml, typed and checked like ``model=``, with
``describer_overrides`` setting its keys, as ``parsing.judge``/``judge_overrides``) the paper's
third question about every screenshot, and then asks the answerer (``model=``, which may be a
text-only model) the preference question on that description alone (``prompts.text_decision``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valuespectrum.config.errors import ConfigError, one_of, require
from valuespectrum.config.models import ModelConfigBase
from valuespectrum.config.parsing import named_model_config

MODALITIES: tuple[str, ...] = ("image", "description")
PLACEHOLDER = "{description}"
# The probe's robustness axes at their defaults: the only setting modality=description runs.
AXES_AT_DEFAULT: tuple[tuple[str, Any], ...] = (
    ("answer_order", "yes_first"), ("keying", "forward"), ("system_prompt", True),
    ("image", "screenshot"),
)


def describer_model_config(name: str, overrides: dict[str, Any] | None = None
                           ) -> ModelConfigBase:
    """conf/model/<name>.yaml with ``describer_overrides``, typed and checked by its backend's
    schema. The SIMULATED respondent may describe (the offline ablation)."""
    return named_model_config("describer", name, overrides)


def check_modality(cfg: Any) -> None:
    """Refuse, in one line naming the fix, a modality the probe cannot run as asked.

    ``cfg`` is the whole ``Config``. A describer given with ``modality=image`` is refused by
    ``check_unused_describer`` (pre-flight), where a sweep over the modality is known.
    """
    one_of("modality", cfg.modality, MODALITIES)
    if cfg.modality == "image":
        require(
            not cfg.describer_overrides or cfg.describer is not None,
            "describer_overrides needs a describer: set describer=<model config>, e.g. "
            "describer=gpt4o modality=description",
        )
        return
    require(
        cfg.describer is not None,
        "modality=description needs a model that describes each screenshot: set "
        "describer=<model config>, e.g. describer=gpt4o (or describer=respondent offline)",
    )
    describer_model_config(cfg.describer, cfg.describer_overrides)
    text = cfg.prompts.text_decision
    require(
        PLACEHOLDER in text,
        f"modality=description asks prompts.text_decision, which must hold {PLACEHOLDER} "
        f"(prompts={cfg.prompts.name} gives {text!r}); set prompts.text_decision=\"... "
        f"{PLACEHOLDER} ...\"",
    )
    require(
        not cfg.model.simulated or cfg.embedder.caption_encoder is not None,
        f"model={cfg.model.name} (SIMULATED) reads a description through the caption encoder, "
        "and embedder.caption_encoder is null: set embedder.caption_encoder=minilm",
    )
    moved = [f"probe.{k}={getattr(cfg.probe, k)}" for k, default in AXES_AT_DEFAULT
             if getattr(cfg.probe, k) != default]
    require(
        not moved,
        f"modality=description asks each description once, in the wording's own form; the "
        f"robustness axes ({', '.join(moved)}) run with modality=image: drop them here",
    )
    require(
        not cfg.probe.describe,
        "probe.describe=true asks the answerer to describe the image, but with "
        "modality=description the describer's descriptions are the describe calls: drop "
        "probe.describe",
    )


def check_unused_describer(cfg: Any, swept: Sequence[str] | None = None) -> None:
    """A describer with ``modality=image`` would be silently unused: refused, unless the job is
    one of a sweep over ``modality`` (``-m modality=image,description describer=gpt4o``: the
    image job is the sweep's baseline and its describer is not part of its identity)."""
    if cfg.modality != "image" or cfg.describer is None:
        return
    if swept is not None and "modality" in swept:
        return
    raise ConfigError(
        f"describer={cfg.describer} is only used with modality=description; add "
        "modality=description, or drop describer (or sweep -m modality=image,description)"
    )
