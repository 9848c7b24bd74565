"""What litellm's price map knows about a model id, and registering what it does not.

litellm prices a reply, decides whether a model takes images and how it carries a system
prompt from its bundled model map (``LITELLM_LOCAL_MODEL_COST_MAP=True``: no download). An id
the map lacks (a provider's new model, a self-served one) would be priced as unknown and
treated as text-only; a config can state its capabilities and prices instead, and they are
registered here, filling only what the map does not know. Prices stay ``None`` when nobody
knows them: an unknown price is never a price of 0.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
# Ids registered here without a price: litellm stores a missing price as 0, which they are not.
_unpriced: set[str] = set()
_config_priced: set[str] = set()  # ids whose price litellm now holds from a config


@dataclass(frozen=True)
class Price:
    """USD per token in and out; None where unknown. ``source`` says where they came from."""

    input_per_token: float | None
    output_per_token: float | None
    source: str  # "litellm map", "config" or "unknown"

    @property
    def known(self) -> bool:
        return self.input_per_token is not None and self.output_per_token is not None


def map_entry(litellm: Any, model: str) -> dict[str, Any] | None:
    """litellm's map entry for ``model`` (``provider/id``), or None when it is not mapped."""
    try:
        info = litellm.get_model_info(model)
    except Exception:  # litellm raises for an unmapped id; that is an answer, not an error
        return None
    return dict(info) if info else None


def register(litellm: Any, model: str, *, input_per_mtok: float | None,
             output_per_mtok: float | None, supports_vision: bool | None) -> None:
    """Register what the config knows about ``model`` where litellm's map does not know it."""
    known = map_entry(litellm, model) or {}
    entry: dict[str, Any] = {}
    if known.get("input_cost_per_token") is None and input_per_mtok is not None:
        entry["input_cost_per_token"] = input_per_mtok / 1e6
    if known.get("output_cost_per_token") is None and output_per_mtok is not None:
        entry["output_cost_per_token"] = output_per_mtok / 1e6
    if known.get("supports_vision") is None and supports_vision is not None:
        entry["supports_vision"] = supports_vision
    if not entry:
        return
    for side in ("input_cost_per_token", "output_cost_per_token"):
        if known.get(side) is None and side not in entry:
            _unpriced.add(model)
        elif side in entry:
            _config_priced.add(model)
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    entry = {"litellm_provider": provider, "mode": "chat", "supports_system_messages": True,
             **{k: v for k, v in known.items() if k in ("max_tokens", "max_input_tokens")},
             **entry}
    quiet = logging.getLogger("LiteLLM")  # it warns that cache-read prices default to 0
    with _lock:
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            litellm.register_model({model: entry})
        finally:
            quiet.setLevel(level)


def is_unpriced(model: str) -> bool:
    """Whether ``model`` was registered here with no price (litellm would say 0)."""
    return model in _unpriced


def price(litellm: Any, model: str, *, input_per_mtok: float | None = None,
          output_per_mtok: float | None = None) -> Price:
    """The per-token price of ``model``: litellm's map first, then the config's, else unknown."""
    entry = {} if is_unpriced(model) else map_entry(litellm, model) or {}
    inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if inp is not None and out is not None:
        return Price(float(inp), float(out), "config" if model in _config_priced else "litellm map")
    if input_per_mtok is not None and output_per_mtok is not None:
        return Price(input_per_mtok / 1e6, output_per_mtok / 1e6, "config")
    return Price(None, None, "unknown")
