"""The probe's cost plan from the cache: which planned calls are cached, what they cost, and
what the new ones will (``costplan`` does the arithmetic); printed, logged, and held against
``probe.max_cost_usd`` before any call.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from valuespectrum.models.base import ChatModel, ImagePart, Message
from valuespectrum.probe.costplan import (
    CHARS_PER_TOKEN,
    DEFAULT_OUTPUT_TOKENS,
    KINDS,
    KindHistory,
    KindPlan,
    PlannedCall,
    plan_kind,
    render,
    token_family,
    total_cost,
)
from valuespectrum.probe.plan import Call, plan_call
from valuespectrum.probe.prompts import describe_messages
from valuespectrum.store import ProbeStore

log = logging.getLogger(__name__)


def image_size(image: ImagePart) -> tuple[int, int]:
    """Width and height of an encoded image, from its header (no decoding)."""
    from PIL import Image

    with Image.open(io.BytesIO(image.data)) as img:
        return img.size


def _planned(call: Call, kind: str, sizes: dict[str, tuple[int, int]], extra_chars: int = 0
             ) -> PlannedCall:
    text = sum(len(p) for m in call.messages for p in m.content if isinstance(p, str))
    images = []
    for p in (p for m in call.messages for p in m.content if isinstance(p, ImagePart)):
        if p.sha256 not in sizes:
            sizes[p.sha256] = image_size(p)
        images.append(sizes[p.sha256])
    return PlannedCall(kind, text + extra_chars, tuple(images))


def plan_probe(ctx, model: ChatModel, decisions: Sequence[Call], prompts, params,
               price: tuple[float, float] | None,
               asked_why: Sequence[Call] | None = None) -> list[KindPlan]:
    """The plan of every call kind this probe makes, given its ``decisions`` (of which
    ``asked_why``, default all, are followed by a "why" in their own conversation)."""
    cfg = ctx.cfg
    sizes: dict[str, tuple[int, int]] = {}
    with ctx.store.connect() as con:
        replies = ProbeStore.cached(con, [c.fingerprint for c in decisions])
    by_kind: dict[str, tuple[list[str], list[PlannedCall]]] = {
        "decision": ([c.fingerprint for c in decisions if c.fingerprint in replies],
                     [_planned(c, "decision", sizes) for c in decisions
                      if c.fingerprint not in replies])}
    if cfg.probe.ask_why:
        known, unknown = [], []
        for c in decisions if asked_why is None else asked_why:
            reply = replies.get(c.fingerprint, "")  # a new decision's "why" quotes a reply
            conversation = (*c.messages, Message.text("assistant", reply),
                            Message.text("user", prompts.why))  # = why_messages  # fmt: skip
            why = plan_call(model, "why", c.image, conversation, c.params, prompts)
            extra = 0 if c.fingerprint in replies else (
                DEFAULT_OUTPUT_TOKENS["decision"] * CHARS_PER_TOKEN)
            (known if reply else unknown).append((why, extra))
        with ctx.store.connect() as con:
            cached = ProbeStore.cached(con, [w.fingerprint for w, _ in known])
        by_kind["why"] = ([w.fingerprint for w, _ in known if w.fingerprint in cached],
                          [_planned(w, "why", sizes, x) for w, x in (*known, *unknown)
                           if w.fingerprint not in cached])
    if cfg.probe.describe:
        images = {c.image.sha256: c.image for c in decisions}
        described = [plan_call(model, "describe", img, describe_messages(prompts, img),
                               params[0], prompts) for img in images.values()]
        with ctx.store.connect() as con:
            cached = ProbeStore.cached(con, [d.fingerprint for d in described])
        by_kind["describe"] = ([d.fingerprint for d in described if d.fingerprint in cached],
                               [_planned(d, "describe", sizes) for d in described
                                if d.fingerprint not in cached])
    return [_kind_plan(ctx, cfg.model, kind, *by_kind[kind], price)
            for kind in KINDS if kind in by_kind]


def plan_calls(ctx, model_cfg, kind: str, calls: Sequence[Call],
               price: tuple[float, float] | None) -> KindPlan:
    """The plan of ``calls`` of one ``kind`` made by another model than ``model=`` (the
    describer of ``modality=description``), at its own token rules and prices."""
    sizes: dict[str, tuple[int, int]] = {}
    with ctx.store.connect() as con:
        cached = ProbeStore.cached(con, [c.fingerprint for c in calls])
    new = [_planned(c, kind, sizes) for c in calls if c.fingerprint not in cached]
    return _kind_plan(ctx, model_cfg, kind, [c.fingerprint for c in calls
                                             if c.fingerprint in cached], new, price)


def _kind_plan(ctx, m, kind: str, cached_fps: list[str], new: list[PlannedCall],
               price: tuple[float, float] | None) -> KindPlan:
    family = token_family(m.model, getattr(m, "api_base", None))
    with ctx.store.connect() as con:
        out, latency = ProbeStore.kind_usage(con, m.name, kind)
        history = KindHistory(len(cached_fps), ProbeStore.cost(con, cached_fps), out, latency)
    return plan_kind(kind, new, history, family=family, model=m.model,
                     detail=getattr(m, "image_detail", "high"),
                     max_tokens=m.generation.max_tokens, price=price,
                     concurrency=ctx.cfg.probe.concurrency)


def report_plan(ctx, plans: Sequence[KindPlan], price_source: str) -> dict[str, float]:
    """Print the plan, log it as a table artifact, and return it as metrics."""
    import pandas as pd

    cfg = ctx.cfg
    text = render(plans, model=f"model={cfg.model.name} ({cfg.model.model})",
                  price_source=price_source, concurrency=cfg.probe.concurrency)
    print(text)
    logging.getLogger("valuespectrum.results").info("probe plan\n%s", text)
    frame = pd.DataFrame([
        {"kind": p.kind, "calls": p.calls, "cached": p.cached, "new": p.new,
         "input_tokens": p.input_tokens, "image_tokens": p.image_tokens,
         "output_tokens": p.output_tokens,
         "cost_usd": "unknown" if p.cost_usd is None else p.cost_usd,
         "cached_cost_usd": "unknown" if p.cached_cost_usd is None else p.cached_cost_usd,
         "seconds": p.seconds, "price_source": price_source,
         "assumptions": "; ".join(p.assumptions)}
        for p in plans
    ])
    ctx.tracker.log_table(frame, "probe/plan_table.json")
    metrics: dict[str, float] = {}
    for p in plans:
        for name, value in (("calls", p.calls), ("cached", p.cached), ("new", p.new),
                            ("input_tokens", p.input_tokens), ("output_tokens", p.output_tokens),
                            ("cost_usd", p.cost_usd), ("seconds", p.seconds)):
            if value is not None:  # an unknown cost is no metric (the table says "unknown")
                metrics[f"usage/plan/{p.kind}/{name}"] = float(value)
    total = total_cost(plans)
    if total is not None:
        metrics["usage/plan/cost_usd"] = total
    return metrics
