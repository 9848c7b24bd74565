"""The schemas in Hydra's ConfigStore, and where the shipped YAML lives.

conf/config.yaml starts its defaults list with ``config_schema`` and every conf/model/ file with
the schema of its backend (``/schema/model@_here_: api_schema``, ``local_schema`` or
``simulated_schema``, stored in a group of their own so they are never listed as models), so
``python run.py --cfg job`` prints every setting with its default and any setting can be
overridden without ``+``. The stored nodes are the dataclasses' shapes and defaults, left open:
Hydra would refuse a wrong type or a key of another backend in a multi-line message that cannot
name the fix, so those are left to ``load_config``, which refuses them in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"

# ConfigStore names of the model schemas, per backend (conf/model/*.yaml use them).
MODEL_SCHEMA_NAMES: dict[str, str] = {
    "litellm": "api_schema",
    "transformers": "local_schema",
    "respondent": "simulated_schema",
}


def register_schemas() -> None:
    """Store ``config_schema`` and the model group's schemas (idempotent, no heavy import)."""
    from hydra.core.config_store import ConfigStore

    from valuespectrum.config.models import MODEL_SCHEMAS
    from valuespectrum.config.schema import Config

    store = ConfigStore.instance()
    store.store(name="config_schema", node=_open_node(Config))
    for backend, name in MODEL_SCHEMA_NAMES.items():
        store.store(group="schema/model", name=name, node=_open_node(MODEL_SCHEMAS[backend]))


def _open_node(schema: type) -> Any:
    """The dataclass's keys and defaults (MISSING stays ``???``) as a node that accepts more keys
    and any type, so that every refusal comes from ``load_config`` in one line."""
    from omegaconf import DictConfig, OmegaConf

    node = OmegaConf.create(OmegaConf.to_container(OmegaConf.structured(schema)))

    def unlock(d: DictConfig) -> None:
        OmegaConf.set_struct(d, False)
        for key in d:
            child = d._get_node(key)
            if isinstance(child, DictConfig):
                unlock(child)

    unlock(node)
    return node
