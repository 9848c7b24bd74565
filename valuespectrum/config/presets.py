"""Wording presets: a group whose YAML files hold text shown to a model, each with a version id.

conf/prompts/ (the probe) and conf/strategy/ (role-play) are such groups. A preset's version id
enters every cache key; a piece reworded on top of a preset (``prompts.decision="..."``,
``strategy.intro="..."``) gets a derived version ``<preset version>+custom-<hash>`` so it can
never be served from the preset's cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from valuespectrum.config.errors import ConfigError
from valuespectrum.config.store import CONF_DIR

T = TypeVar("T")


def load_preset(group: str, name: str, schema: type[T]) -> T:
    """The shipped preset conf/<group>/<name>.yaml merged onto ``schema``."""
    from omegaconf import OmegaConf

    path = CONF_DIR / group / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise ConfigError(f"{group}={name} is not a preset; use one of {known}")
    merged = OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.load(path))
    preset = OmegaConf.to_object(merged)
    assert isinstance(preset, schema)
    return preset


def versioned_preset(cfg: Any, group: str, wording: Sequence[str]) -> Any:
    """``cfg`` with a version that tells its wording apart from the preset it started from.

    Wording equal to the preset's keeps the preset's version (and so its cache). Reworded pieces
    under the preset's version get ``<version>+custom-<hash of the changed pieces>``; a version
    the user set themselves is kept. A preset from outside conf/<group> is taken as given.
    """
    if not (CONF_DIR / group / f"{cfg.name}.yaml").is_file():
        return cfg
    preset = load_preset(group, cfg.name, type(cfg))
    if cfg.version != preset.version:
        return cfg
    changed = {k: getattr(cfg, k) for k in wording if getattr(cfg, k) != getattr(preset, k)}
    if not changed:
        return cfg
    tag = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:8]
    return replace(cfg, version=f"{preset.version}+custom-{tag}")
