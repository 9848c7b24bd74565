"""One source of truth for defaults: the default config's YAML, the dataclass defaults and the
README never disagree, and the schemas Hydra composes with are the dataclasses'."""

from __future__ import annotations

import re
from typing import Any

import pytest
from omegaconf import OmegaConf

from tests.conftest import ROOT, compose_raw
from valuespectrum.config import MODEL_SCHEMAS, Config, load_config

MISSING = "???"


def _defaults() -> dict[str, Any]:
    """Every dataclass default of the default config's schemas; ``???`` where there is none."""
    composed = OmegaConf.to_container(compose_raw(), resolve=True)
    schema = OmegaConf.structured(Config)
    schema.model = OmegaConf.structured(MODEL_SCHEMAS[composed["model"]["backend"]])
    return OmegaConf.to_container(schema)


def _disagreements(default: Any, composed: Any, path: str) -> list[str]:
    if isinstance(default, dict) and default:
        return [
            d for key, value in default.items()
            for d in _disagreements(value, composed.get(key, "<absent>"), f"{path}.{key}")
        ]
    if default == MISSING:
        return [] if composed not in (MISSING, "<absent>") else [f"{path}: no value in YAML"]
    return [] if default == composed else [f"{path}: dataclass {default!r}, YAML {composed!r}"]


def test_default_config_yaml_equals_the_dataclass_defaults_leaf_by_leaf() -> None:
    composed = OmegaConf.to_container(compose_raw(), resolve=True)
    composed.pop("hydra", None)
    defaults = _defaults()
    assert set(composed) == set(defaults)
    assert _disagreements(defaults, composed, "cfg") == []
    # the comparison sees YAML values: a dataclass default that drifted would be caught
    drifted = {**defaults, "corpus": {**defaults["corpus"], "n": 300}}
    assert _disagreements(drifted, composed, "cfg") == ["cfg.corpus.n: dataclass 300, YAML 600"]


def test_readme_states_the_defaults_the_config_has() -> None:
    readme = (ROOT / "README.md").read_text()
    stated = dict(re.findall(r"`([a-z_]+\.[a-z_.]+)`\s+\((?:default )?([0-9][0-9.]*)", readme))
    assert {"corpus.n", "retrieve.caption_weight", "retrieve.k"} <= set(stated)
    cfg = OmegaConf.to_container(compose_raw(), resolve=True)
    for key, value in stated.items():
        node: Any = cfg
        for part in key.split("."):
            node = node[part]
        assert float(value) == pytest.approx(float(node)), key


def test_schemas_are_in_the_config_store_and_in_the_defaults_lists() -> None:
    from hydra.core.config_store import ConfigStore

    repo = ConfigStore.instance().repo
    assert "config_schema.yaml" in repo
    schemas = {"api_schema.yaml", "local_schema.yaml", "simulated_schema.yaml"}
    assert schemas <= set(repo["schema"]["model"])
    assert not {"api_schema.yaml", "local_schema.yaml"} & set(repo.get("model", {}))
    # keys that no YAML of the default config names come from config_schema
    raw = compose_raw()
    assert raw.corpus.max_file_mb == 200 and raw.corpus.follow_symlinks == "inside"
    assert load_config(raw).corpus.max_file_mb == 200
