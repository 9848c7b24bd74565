"""What a probe will cost before it runs: calls, tokens, dollars and time per call kind.

Pure logic: no store, tracker or stage; the caller looks up the cache and the price. Every
estimate states its rule, and a price nobody knows stays ``None`` (printed "unknown"), never 0.

Image tokens, per provider family (the image as sent: the encoded JPEG's width and height):

* ``openai`` (GPT-4o, GPT-4.1, GPT-5.x): ``detail=low`` is 85 tokens; ``high`` (and ``auto``,
  counted as high) scales the image to fit 2048 x 2048, then its shortest side to 768, and
  counts 85 + 170 per 512-px tile. The mini models that bill by 32-px patches are counted the
  same way (an assumption).
* ``anthropic``: (w * h) / 750, after scaling the long side to at most 1568 px.
* ``gemini``: a fixed count per image: 1120 tokens for Gemini 3 at high media resolution (what
  litellm asks for at ``detail=high``; 280 at low), 258 for older Gemini models.
* ``other`` (DashScope Qwen-VL, OpenAI-compatible servers, local weights): one token per
  28 x 28-px patch plus 2, Qwen2.5-VL's rule, an assumption for any other model.

Text tokens are characters / 4 (an assumption; no tokenizer is loaded). Output tokens are the
mean of this model's cached replies of the same kind when there are any, else
``DEFAULT_OUTPUT_TOKENS`` (capped at ``max_tokens``). Wall time is the new calls times the mean
cached latency (else ``DEFAULT_SECONDS_PER_CALL``) divided by the concurrency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

KINDS = ("decision", "why", "describe")
DEFAULT_OUTPUT_TOKENS = {"decision": 5, "why": 80, "describe": 60}
DEFAULT_SECONDS_PER_CALL = 2.0
CHARS_PER_TOKEN = 4


class BudgetExceeded(RuntimeError):
    """The probe would cost, or has cost, more than ``probe.max_cost_usd``."""


def token_family(model: str, api_base: str | None) -> str:
    """Which image-token rule applies to a model id (``provider/name``)."""
    provider = model.split("/", 1)[0] if "/" in model else ""
    if provider == "openai" and api_base is None:
        return "openai"
    return provider if provider in ("anthropic", "gemini") else "other"


def image_tokens(family: str, width: int, height: int, *, detail: str = "high",
                 model: str = "") -> int:
    """Tokens a provider counts for one image of ``width`` x ``height`` (module docstring)."""
    if family == "openai":
        if detail == "low":
            return 85
        scale = min(1.0, 2048 / max(width, height))
        w, h = width * scale, height * scale
        scale = min(1.0, 768 / min(w, h))
        w, h = w * scale, h * scale
        return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)
    if family == "anthropic":
        scale = min(1.0, 1568 / max(width, height))
        return math.ceil(width * scale * height * scale / 750)
    if family == "gemini":
        if "gemini-3" in model or "gemini-4" in model:
            return 280 if detail == "low" else 1120
        return 258
    return math.ceil(width / 28) * math.ceil(height / 28) + 2


def text_tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class PlannedCall:
    """A call to be made: its prompt text length, the images it sends and its kind."""

    kind: str
    text_chars: int
    images: tuple[tuple[int, int], ...]  # (width, height) of each image sent


@dataclass(frozen=True)
class KindHistory:
    """What the cache knows of one call kind: its cached calls and their recorded usage."""

    cached: int = 0
    cached_cost_usd: float | None = 0.0  # None: some cached reply has no known cost
    mean_output_tokens: float | None = None
    mean_latency_s: float | None = None


@dataclass(frozen=True)
class KindPlan:
    """The plan of one call kind; costs are None when the price is unknown."""

    kind: str
    calls: int
    cached: int
    new: int
    input_tokens: int  # of the new calls, images included
    image_tokens: int  # the part of ``input_tokens`` that are images
    output_tokens: int
    cost_usd: float | None  # of the new calls
    cached_cost_usd: float | None  # what the cached answers once cost
    seconds: float
    assumptions: tuple[str, ...]


def plan_kind(kind: str, new: Sequence[PlannedCall], history: KindHistory, *, family: str,
              model: str, detail: str, max_tokens: int,
              price: tuple[float, float] | None, concurrency: int) -> KindPlan:
    """Estimate one call kind; ``price`` is USD per token (in, out), None when unknown."""
    assumptions = [f"image tokens: {family} rule", "text tokens: characters / 4"]
    image = sum(image_tokens(family, w, h, detail=detail, model=model)
                for c in new for w, h in c.images)
    text = sum(text_tokens(c.text_chars) for c in new)
    per_call_out = history.mean_output_tokens
    if per_call_out is None:
        per_call_out = min(max_tokens, DEFAULT_OUTPUT_TOKENS.get(kind, max_tokens))
        assumptions.append(f"output: {per_call_out} tokens per {kind} call (no cached replies)")
    output = round(per_call_out * len(new))
    latency = history.mean_latency_s
    if latency is None:
        latency = DEFAULT_SECONDS_PER_CALL
        assumptions.append(f"time: {latency:g} s per call (no cached latencies)")
    cost = None if price is None else (text + image) * price[0] + output * price[1]
    return KindPlan(
        kind=kind, calls=len(new) + history.cached, cached=history.cached, new=len(new),
        input_tokens=text + image, image_tokens=image, output_tokens=output, cost_usd=cost,
        cached_cost_usd=history.cached_cost_usd, seconds=len(new) * latency / concurrency,
        assumptions=tuple(assumptions),
    )


def total_cost(plans: Sequence[KindPlan]) -> float | None:
    """Estimated dollars of all new calls; None when any kind's price is unknown."""
    costs = [p.cost_usd for p in plans if p.new]
    return None if any(c is None for c in costs) else float(sum(c or 0.0 for c in costs))


def dollars(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


def render(plans: Sequence[KindPlan], *, model: str, price_source: str,
           concurrency: int) -> str:
    """The plan as a printed table, with its totals and the assumptions behind it."""
    head = (f"{'kind':<9} {'calls':>6} {'cached':>6} {'new':>6} {'input tok':>10} "
            f"{'(images)':>9} {'output tok':>10} {'est. cost':>11} {'cached cost':>11} "
            f"{'est. time':>9}")
    lines = [f"probe plan for {model} (prices: {price_source}; concurrency {concurrency})",
             head, "-" * len(head)]
    for p in plans:
        lines.append(
            f"{p.kind:<9} {p.calls:>6} {p.cached:>6} {p.new:>6} {p.input_tokens:>10,} "
            f"{p.image_tokens:>9,} {p.output_tokens:>10,} {dollars(p.cost_usd):>11} "
            f"{dollars(p.cached_cost_usd):>11} {p.seconds:>8.0f}s"
        )
    seconds = sum(p.seconds for p in plans)
    lines.append(f"total: {sum(p.new for p in plans)} new calls, est. {dollars(total_cost(plans))}"
                 f", about {seconds / 60:.1f} min")
    notes = sorted({a for p in plans for a in p.assumptions})
    lines += [f"  assumed {a}" for a in notes]
    return "\n".join(lines)


class Budget:
    """``probe.max_cost_usd`` held across all call kinds of one job.

    ``check_plan`` refuses a job whose estimate exceeds the budget before any call;
    ``spend`` adds each reply's cost as it lands and raises once the spent total passes it.
    A reply without a known cost is costed from its tokens at ``price``.
    """

    def __init__(self, limit_usd: float | None, price: tuple[float, float] | None) -> None:
        self.limit = limit_usd
        self.price = price
        self.spent = 0.0

    def check_plan(self, plans: Sequence[KindPlan], model: str) -> None:
        if self.limit is None:
            return
        estimate = total_cost(plans)
        if estimate is None:
            raise BudgetExceeded(
                f"probe.max_cost_usd={self.limit:g} cannot be held: the price of {model} is "
                "unknown; give model.prices.input_per_mtok and model.prices.output_per_mtok, "
                "or drop probe.max_cost_usd"
            )
        if estimate > self.limit:
            raise BudgetExceeded(
                f"stopped before any call: the probe would cost about {dollars(estimate)}, over "
                f"probe.max_cost_usd={self.limit:g} (see probe.plan=true); raise the budget or "
                "probe fewer images (retrieve.k, probe.ask_why=false)"
            )

    def spend(self, cost_usd: float | None, input_tokens: int | None,
              output_tokens: int | None) -> None:
        if self.limit is None:
            return
        if cost_usd is None:
            if self.price is None or input_tokens is None or output_tokens is None:
                raise BudgetExceeded(
                    f"stopped: a reply came back without a cost, so probe.max_cost_usd="
                    f"{self.limit:g} cannot be held; answers so far are cached"
                )
            cost_usd = input_tokens * self.price[0] + output_tokens * self.price[1]
        self.spent += cost_usd
        if self.spent > self.limit:
            raise BudgetExceeded(
                f"stopped: this run spent {dollars(self.spent)}, over probe.max_cost_usd="
                f"{self.limit:g}; the answers got so far are cached, and re-running with a "
                "larger budget asks only the rest"
            )
