"""The cost plan's arithmetic: image tokens by provider, unknown prices kept unknown, and the
budget refusing or stopping a probe."""

from __future__ import annotations

import pytest

from valuespectrum.probe.costplan import (
    Budget,
    BudgetExceeded,
    KindHistory,
    PlannedCall,
    image_tokens,
    plan_kind,
    render,
    token_family,
    total_cost,
)


@pytest.mark.parametrize(
    ("family", "size", "detail", "model", "tokens"),
    [
        ("openai", (1024, 1024), "high", "", 765),  # OpenAI's worked examples
        ("openai", (2048, 4096), "high", "", 1105),
        ("openai", (4096, 8192), "low", "", 85),
        ("openai", (512, 512), "auto", "", 255),
        ("anthropic", (1000, 1000), "high", "", 1334),  # ceil(1e6 / 750)
        ("anthropic", (3136, 1568), "high", "", 1640),  # long side scaled to 1568 first
        ("gemini", (768, 1024), "high", "gemini/gemini-3.5-flash", 1120),
        ("gemini", (768, 1024), "low", "gemini/gemini-3.5-flash", 280),
        ("gemini", (3000, 3000), "high", "gemini/gemini-2.0-flash", 258),
        ("other", (224, 224), "high", "", 66),  # 8 x 8 patches of 28 px, + 2
    ],
)
def test_image_tokens_follow_each_providers_rule(family, size, detail, model, tokens) -> None:
    assert image_tokens(family, *size, detail=detail, model=model) == tokens


def test_the_family_comes_from_the_model_id_and_a_custom_server_is_other() -> None:
    assert token_family("openai/gpt-4o-2024-08-06", None) == "openai"
    assert token_family("openai/served-model", "http://127.0.0.1:8000/v1") == "other"
    assert token_family("anthropic/claude-sonnet-4-6", None) == "anthropic"
    assert token_family("gemini/gemini-3.5-flash", None) == "gemini"
    assert token_family("dashscope/qwen3-vl-235b-a22b-instruct", None) == "other"
    assert token_family("HuggingFaceTB/SmolVLM-256M-Instruct", None) == "other"


CALLS = [PlannedCall("decision", 400, ((512, 512),))] * 10
NO_HISTORY = KindHistory()


def _plan(price, history=NO_HISTORY, kind="decision"):
    return plan_kind(kind, CALLS, history, family="openai", model="openai/gpt-4o", detail="high",
                     max_tokens=300, price=price, concurrency=4)


def test_a_known_price_costs_every_token_and_an_unknown_one_stays_unknown() -> None:
    plan = _plan((2e-6, 1e-5))
    assert (plan.new, plan.image_tokens, plan.input_tokens) == (10, 2550, 2550 + 1000)
    assert plan.output_tokens == 50  # 5 per decision, assumed
    assert plan.cost_usd == pytest.approx(3550 * 2e-6 + 50 * 1e-5)
    unknown = _plan(None)
    assert unknown.cost_usd is None and total_cost([plan, unknown]) is None
    assert "unknown" in render([unknown], model="m", price_source="unknown", concurrency=4)
    assert total_cost([plan]) == pytest.approx(plan.cost_usd)


def test_cached_history_replaces_the_assumptions() -> None:
    plan = _plan((1e-6, 1e-6), KindHistory(cached=5, cached_cost_usd=0.25,
                                           mean_output_tokens=12.0, mean_latency_s=0.8))
    assert (plan.calls, plan.cached, plan.new) == (15, 5, 10)
    assert plan.output_tokens == 120 and plan.seconds == pytest.approx(10 * 0.8 / 4)
    assert plan.cached_cost_usd == 0.25
    assert not any(a.startswith(("output", "time")) for a in plan.assumptions)
    why = _plan((1e-6, 1e-6), kind="why")
    assert why.output_tokens == 800 and any("80 tokens per why" in a for a in why.assumptions)


def test_the_budget_refuses_an_estimate_over_it_or_an_unknown_price() -> None:
    plan = _plan((2e-6, 1e-5))  # about $0.0076
    Budget(0.01, (2e-6, 1e-5)).check_plan([plan], "model=gpt4o")
    Budget(None, None).check_plan([_plan(None)], "model=x")  # no budget: nothing to hold
    with pytest.raises(BudgetExceeded, match="would cost about"):
        Budget(0.005, (2e-6, 1e-5)).check_plan([plan], "model=gpt4o")
    with pytest.raises(BudgetExceeded, match="price of model=x is unknown"):
        Budget(1.0, None).check_plan([_plan(None)], "model=x")


def test_the_budget_stops_once_spent_passes_it() -> None:
    budget = Budget(0.01, (1e-6, 1e-5))
    budget.spend(0.004, 10, 10)
    budget.spend(None, 1000, 100)  # no cost on the reply: from its tokens, $0.002
    assert budget.spent == pytest.approx(0.006)
    with pytest.raises(BudgetExceeded, match=r"this run spent \$0.0110"):
        budget.spend(0.005, 10, 10)
    with pytest.raises(BudgetExceeded, match="without a cost"):
        Budget(1.0, None).spend(None, 10, 10)
