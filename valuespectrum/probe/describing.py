"""``modality=description``: the describer describes every screenshot, the answerer reads.

The describer is a model like any other (``describer=<model config>``, built by the registry):
its calls (kind ``describe``, the paper's third question) go through the same call runner,
response cache, retries, error accounting and budget as every call of the probe. The answerer's
decisions are then planned as text-only calls about each usable description
(``probe.modality``); everything after (why, judge, parsing, scoring) is the probe's own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from valuespectrum.config import describer_model_config
from valuespectrum.models.registry import build_model, generation_params
from valuespectrum.probe.ask import CallStats, ask
from valuespectrum.probe.costplan import CHARS_PER_TOKEN, DEFAULT_OUTPUT_TOKENS, Budget, KindPlan
from valuespectrum.probe.estimate import plan_calls, plan_probe
from valuespectrum.probe.modality import (
    Description,
    description_counts,
    missing_rows,
    read_description,
    text_decision_messages,
    text_prompts,
    text_why_messages,
)
from valuespectrum.probe.plan import Call, answer_rows, plan_call
from valuespectrum.probe.prompts import describe_messages
from valuespectrum.store import ProbeStore

log = logging.getLogger(__name__)

Price = Callable[[object], tuple[tuple[float, float] | None, str]]


class Describing:
    """The describer of one probe job, its descriptions, and the answerer's text calls."""

    def __init__(self, ctx, images, prompts) -> None:
        from valuespectrum.simulation.perception import corpus_perceiver

        cfg = ctx.cfg
        self.ctx, self.images, self.prompts = ctx, images, prompts
        self.config = describer_model_config(cfg.describer, cfg.describer_overrides)
        perceive = getattr(self.config, "perceive", None)  # a simulated describer's own
        self.model = build_model(
            self.config, timeout_s=cfg.probe.timeout_s,
            perceiver=lambda: corpus_perceiver(ctx, images.all(), perceive=perceive),
        )
        self.params = generation_params(self.config, 0, 1)
        self.text = text_prompts(cfg.prompts)
        self.descriptions: dict[int, Description] = {}
        self._calls: dict[int, Call] | None = None
        self._questions: dict[str, str] = {}  # decision fingerprint -> the description

    def identity(self) -> dict:
        """What enters the probe run id: the modality, the describer, the text question."""
        return {"modality": {"describer": self.model.fingerprint(),
                             "params": dataclasses.asdict(self.params),
                             "text_prompts": self.text.fingerprint()}}

    def describe_calls(self) -> dict[int, Call]:
        if self._calls is None:
            self._calls = {
                sid: plan_call(self.model, "describe", img, describe_messages(self.prompts, img),
                               self.params, self.prompts)
                for sid, img in self.images
            }
        return self._calls

    def plan(self, model, params, price, price_of: Price) -> list[KindPlan]:
        """The plan: the describer's calls at its prices, then the answerer's text calls, on
        the cached descriptions or, for new ones, on a stand-in of a typical length."""
        calls = self.describe_calls()
        with self.ctx.store.connect() as con:
            cached = ProbeStore.cached(con, [c.fingerprint for c in calls.values()])
        stand_in = "x" * (DEFAULT_OUTPUT_TOKENS["describe"] * CHARS_PER_TOKEN)
        decisions = [self._decision(model, c.image, cached.get(c.fingerprint, stand_in), p)
                     for c in calls.values() for p in params]
        plans = plan_probe(self.ctx, model, decisions, self.prompts, params, price)
        describer_price, source = price_of(self.config)
        described = plan_calls(self.ctx, self.config, "describe", list(calls.values()),
                               describer_price)
        note = f"describe calls: describer={self.config.name} ({self.config.model}), {source}"
        return [*plans, dataclasses.replace(described,
                                            assumptions=[*described.assumptions, note])]

    def decision_calls(self, model, params, stats: CallStats, budget: Budget | None,
                       price_of: Price) -> dict[tuple[int, int, str, str], Call]:
        """Describe every screenshot (cached or asked), then plan the answerer's text-only
        decision per (screenshot, sample) with a usable description, keyed as the probe keys
        its decisions: (screenshot id, sample, answer order, keying), here always the wording's
        own order, forward-keyed (config refuses the robustness axes with this modality)."""
        calls = self.describe_calls()
        held = None
        if budget is not None:  # the same limit and spending, at the describer's prices
            held = Budget(budget.limit, price_of(self.config)[0])
            held.spent = budget.spent
        try:
            replies = asyncio.run(ask(self.ctx, self.model, list(calls.values()), stats,
                                      "describe calls", budget=held))
        finally:
            asyncio.run(self.model.aclose())
        if budget is not None and held is not None:
            budget.spent = held.spent
        self.descriptions = {
            sid: read_description(replies.get(c.fingerprint), stats.failures.get(c.fingerprint))
            for sid, c in calls.items()
        }
        missing = sum(not d.usable for d in self.descriptions.values())
        if missing:
            log.warning("%d of %d screenshots have no usable description (failed, refused, no "
                        "image or empty): they are not asked and not scored", missing,
                        len(calls))
        decisions = {
            (sid, s, "yes_first", "forward"): self._decision(model, calls[sid].image,
                                                             d.text or "", p)
            for sid, d in self.descriptions.items() if d.usable
            for s, p in enumerate(params)
        }
        self._prime(model)
        return decisions

    def why_messages(self, call: Call, reply: str):
        return text_why_messages(self.text, self._questions[call.fingerprint], reply)

    def answer_rows(self, table, decisions, whys, replies, probe_run: str, samples: int,
                    failures, **reading) -> list[tuple]:
        """The answers: read as any decision where described, else the describer's row."""
        reading.pop("row_orders", None)  # one order: the wording's own (see decision_calls)
        usable = {sid for sid, d in self.descriptions.items() if d.usable}
        described = table[table["screenshot_id"].astype(int).isin(usable)]
        fingerprints = {sid: c.fingerprint for sid, c in self.describe_calls().items()}
        return [*answer_rows(described, decisions, whys, replies, probe_run, samples, failures,
                             **reading),
                *missing_rows(table, self.descriptions, fingerprints, probe_run, samples)]

    def expected(self, model) -> Callable[[Call], tuple[float, float, float]] | None:
        """A simulated answerer's expectation of a text decision (what it reads in it)."""
        expect = getattr(model, "expected_text_outcomes", None)
        if expect is None:
            return None
        self._prime(model)
        return lambda call: expect(self.text.question(self._questions[call.fingerprint]))

    def metrics(self) -> dict[str, float]:
        return description_counts(self.descriptions)

    def _prime(self, model) -> None:
        """A model that reads text ahead (the simulated respondent) reads every question in one
        batch."""
        prime = getattr(model, "prime_texts", None)
        if prime is not None:
            prime([self.text.question(d) for d in set(self._questions.values())])

    def _decision(self, model, image, description: str, params) -> Call:
        call = plan_call(model, "decision", image,
                         text_decision_messages(self.text, description), params, self.prompts)
        self._questions[call.fingerprint] = description
        return call
