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
# litellm's map is process-wide, but prices belong to a config: a sweep's jobs share a process.
# So the map as bundled is remembered per id, and ids last registered with no price are
# tracked (litellm stores a missing price as 0, which it is not).
_bundled: dict[str, dict[str, Any]] = {}
_unpriced: set[str] = set()


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
    """litellm's bundled map entry for ``model`` (``provider/id``), before anything this process
    registered; None when it is not mapped."""
    with _lock:
        if model not in _bundled:
            try:
                _bundled[model] = dict(litellm.get_model_info(model) or {})
            except Exception:  # litellm raises for an unmapped id: an answer, not an error
                _bundled[model] = {}
        return _bundled[model] or None


def register(litellm: Any, model: str, *, input_per_mtok: float | None,
             output_per_mtok: float | None, supports_vision: bool | None) -> None:
    """Register what the config knows about ``model`` where litellm's bundled map does not."""
    known = map_entry(litellm, model) or {}
    entry: dict[str, Any] = {}
    sides = (("input_cost_per_token", input_per_mtok), ("output_cost_per_token", output_per_mtok))
    for side, per_mtok in sides:
        if known.get(side) is None and per_mtok is not None:
            entry[side] = per_mtok / 1e6
    if known.get("supports_vision") is None and supports_vision is not None:
        entry["supports_vision"] = supports_vision
    unpriced = any(known.get(side) is None and side not in entry for side, _ in sides)
    with _lock:
        (_unpriced.add if unpriced else _unpriced.discard)(model)
    if not entry:
        return
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
    """The per-token price of ``model``: litellm's bundled map first, then the config's prices,
    else unknown (whatever an earlier config of this process registered)."""
    entry = map_entry(litellm, model) or {}
    inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if inp is not None and out is not None:
        return Price(float(inp), float(out), "litellm map")
    if input_per_mtok is not None and output_per_mtok is not None:
        return Price(input_per_mtok / 1e6, output_per_mtok / 1e6, "config")
    return Price(None, None, "unknown")
