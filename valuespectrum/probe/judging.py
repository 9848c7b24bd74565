"""Ask the judge model (``parsing.judge``) about the replies the rules leave invalid.

The judge is a model like any other: built by the registry from its own conf/model/<name>.yaml,
its calls planned with fingerprints (kind ``judge``), answered from the response cache or
the model through the same call runner, failures recorded and never cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from valuespectrum.config import judge_model_config
from valuespectrum.models.registry import build_model, generation_params
from valuespectrum.probe.ask import CallStats, ask
from valuespectrum.probe.judge import (
    JudgePrompt,
    Verdict,
    judge_messages,
    needs_judge,
    parse_verdict,
)
from valuespectrum.probe.parsing import parse_decision
from valuespectrum.probe.plan import Call, plan_call


def judge_replies(
    ctx, decisions: Mapping[object, Call], replies: Mapping[str, str], question: str,
    stats: CallStats, budget_for=None,
) -> dict[str, Verdict]:
    """Decision fingerprint -> the judge's verdict, for every reply it was asked about (none
    without ``parsing.judge``). The judge reads the question each reply answered (a
    reverse-keyed or reordered one where the probe asked it); ``question`` is the wording as
    configured, which it is for the default calls. ``budget_for(judge_cfg)`` gives the job's
    budget priced at the judge's own prices (``probe.max_cost_usd`` holds the judge's calls
    too), or None."""
    parsing = ctx.cfg.parsing
    if parsing.judge is None:
        return {}
    judge_cfg = judge_model_config(parsing.judge, parsing.judge_overrides)
    model = build_model(judge_cfg, timeout_s=ctx.cfg.probe.timeout_s)
    params = generation_params(judge_cfg, 0, 1)
    planned: dict[str, Call] = {}
    for call in decisions.values():
        reply = replies.get(call.fingerprint)
        if reply is None or call.fingerprint in planned:
            continue
        if needs_judge(parse_decision(reply).outcome, call.fingerprint, parsing.judge_sample):
            planned[call.fingerprint] = plan_call(
                model, "judge", call.image, judge_messages(_asked(call, question), reply), params,
                JudgePrompt(),
            )
    try:
        budget = budget_for(judge_cfg) if budget_for is not None else None
        answered = asyncio.run(ask(ctx, model, list(planned.values()), stats, "judge calls",
                                   budget=budget))
    finally:
        asyncio.run(model.aclose())
    return {
        fp: Verdict(
            parse_verdict(answered[j.fingerprint]) if j.fingerprint in answered else "error",
            j.fingerprint,
        )
        for fp, j in planned.items()
    }


def _asked(call: Call, default: str) -> str:
    """The question text of the call's last turn (the decision it answered), else ``default``."""
    texts = [p for p in call.messages[-1].content if isinstance(p, str)] if call.messages else []
    return " ".join(texts) or default
