"""probe.plan and probe.max_cost_usd through the real stage: a plan calls nothing, its dollars
come from litellm's price map (or stay unknown), and a budget refuses or stops a run while the
answers already got are kept; cost metrics split this run's spend from cached answers' cost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import litellm
import pytest

from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer, reply
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.probe.costplan import BudgetExceeded

KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"
BASE = ["corpus.n=40", "retrieve.k=1", "progress=false", "tracking.enabled=false"]
PRICED = ["model.prices.input_per_mtok=1.0", "model.prices.output_per_mtok=1000.0"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("plan") / "ws"
    cfg = compose([f"paths.workspace={ws}", *BASE, "stages=[collect,index,retrieve]"])
    runner.run(cfg, output_dir=ws.parent / "out")
    return ws


@pytest.fixture
def workspace(indexed: Path, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(KEY_ENV, CANARY_KEY)
    ws = tmp_path / "ws"
    shutil.copytree(indexed, ws)
    return ws


def _cfg(ws: Path, server: FakeOpenAIServer, *extra: str, model: str = "openai_compatible"):
    return compose([f"paths.workspace={ws}", *BASE, "stages=[probe]", f"model={model}",
                    f"model.api_base={server.base_url}", "probe.timeout_s=2",
                    "probe.concurrency=4", *extra])


def _decisions(ws: Path) -> int:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(DISTINCT screenshot_id) FROM retrievals").fetchone()[0]


def test_a_plan_calls_nothing_and_an_unknown_price_stays_unknown(workspace, tmp_path, capsys):
    with FakeOpenAIServer() as server:
        metrics = runner.run(_cfg(workspace, server, "probe.plan=true",
                                  "model.model=openai/plan-test-unpriced"),
                             output_dir=tmp_path / "out")
        assert server.requests == []
    n = _decisions(workspace)
    printed = capsys.readouterr().out
    assert "probe plan for model=openai_compatible" in printed and "prices: unknown" in printed
    assert "est. unknown" in printed
    for kind in ("decision", "why"):
        assert metrics[f"usage/probe/plan/{kind}/new"] == n
        assert f"usage/probe/plan/{kind}/cost_usd" not in metrics  # unknown is no metric, not 0
    assert metrics["usage/probe/plan/decision/input_tokens"] > 0
    with duckdb.connect(str(workspace / "valuespectrum.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 0


def test_the_plans_dollars_come_from_litellms_price_map(workspace, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a plan needs no key: it calls nothing
    with FakeOpenAIServer() as server:
        metrics = runner.run(_cfg(workspace, server, "probe.plan=true", model="gpt4o"),
                             output_dir=tmp_path / "out")
        assert server.requests == []
    info = litellm.get_model_info("openai/gpt-4o-2024-08-06")
    total = 0.0
    for kind in ("decision", "why"):
        expected = (metrics[f"usage/probe/plan/{kind}/input_tokens"] * info["input_cost_per_token"]
                    + metrics[f"usage/probe/plan/{kind}/output_tokens"]
                    * info["output_cost_per_token"])
        assert metrics[f"usage/probe/plan/{kind}/cost_usd"] == pytest.approx(expected, rel=1e-3)
        total += expected
    assert metrics["usage/probe/plan/cost_usd"] == pytest.approx(total, rel=1e-3)


def test_a_plan_with_the_default_stages_stops_before_the_role_play(
    workspace, tmp_path, monkeypatch, caplog
):
    """The default stages end with induce, which calls the model: a plan still calls nothing
    and needs no key; the job says it stopped after the plan."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = compose([f"paths.workspace={workspace}", *BASE, "model=gpt4o", "probe.plan=true"])
    assert "induce" in cfg.stages
    with FakeOpenAIServer() as server:
        cfg.model.api_base = server.base_url  # were anything asked, it would land here
        metrics = runner.run(cfg, output_dir=tmp_path / "out")
        assert server.requests == []
    assert not any(k.startswith(("induce/", "usage/induce/")) for k in metrics)
    assert "stopped after the probe's plan; stage induce calls the model" in caplog.text


def test_cost_counts_every_call_kind_and_cached_answers_apart(workspace, tmp_path):
    with FakeOpenAIServer([reply("Yes.")]) as server:
        first = runner.run(_cfg(workspace, server, *PRICED), output_dir=tmp_path / "a")
        calls = len(server.requests)
        with duckdb.connect(str(workspace / "valuespectrum.duckdb"), read_only=True) as con:
            kinds = dict(con.execute("SELECT kind, sum(cost_usd) FROM responses GROUP BY kind"
                                     ).fetchall())
        assert set(kinds) == {"decision", "why"} and calls == 2 * _decisions(workspace)
        assert first["usage/probe/cost_usd_spent"] == pytest.approx(sum(kinds.values()))
        assert first["usage/probe/cost_usd_cached"] == 0.0
        again = runner.run(_cfg(workspace, server, *PRICED), output_dir=tmp_path / "b")
        planned = runner.run(_cfg(workspace, server, *PRICED, "probe.plan=true"),
                             output_dir=tmp_path / "c")
        assert len(server.requests) == calls
    assert again["usage/probe/cost_usd_spent"] == 0.0
    assert again["usage/probe/cost_usd_cached"] == pytest.approx(sum(kinds.values()))
    assert planned["usage/probe/plan/decision/new"] == 0
    assert planned["usage/probe/plan/why/cached"] == _decisions(workspace)


def test_an_unknown_cost_is_never_logged_as_zero(workspace, tmp_path):
    with FakeOpenAIServer([reply("No.")]) as server:
        metrics = runner.run(_cfg(workspace, server, "model.model=openai/unpriced-cost-test",
                                  "probe.ask_why=false"), output_dir=tmp_path / "out")
        assert server.requests
    assert "usage/probe/cost_usd_spent" not in metrics
    assert "usage/probe/cost_usd_cached" in metrics  # nothing cached: a known 0


def test_a_budget_below_the_estimate_is_refused_before_any_call(workspace, tmp_path):
    with FakeOpenAIServer() as server:
        with pytest.raises(BudgetExceeded, match="stopped before any call"):
            runner.run(_cfg(workspace, server, *PRICED, "probe.max_cost_usd=0.0001"),
                       output_dir=tmp_path / "out")
        with pytest.raises(BudgetExceeded, match="price of model=openai_compatible is unknown"):
            runner.run(_cfg(workspace, server, "probe.max_cost_usd=5"),
                       output_dir=tmp_path / "out")
        assert server.requests == []


def test_a_run_whose_spend_passes_the_budget_stops_and_keeps_its_answers(workspace, tmp_path):
    # Each reply is ~2000 output tokens at $0.001: about $2 a call, far over the plan's guess.
    long = reply("Yes " + "indeed " * 2000)
    extra = (*PRICED, "probe.ask_why=false", "probe.concurrency=2")
    n = _decisions(workspace)
    with FakeOpenAIServer([long], latency_s=0.05) as server:
        with pytest.raises(BudgetExceeded, match="this run spent"):
            runner.run(_cfg(workspace, server, *extra, "probe.max_cost_usd=3"),
                       output_dir=tmp_path / "a")
        stopped_after = len(server.requests)
        assert 2 <= stopped_after < n
        with duckdb.connect(str(workspace / "valuespectrum.duckdb"), read_only=True) as con:
            kept = con.execute("SELECT count(*) FROM responses").fetchone()[0]
        assert kept >= 2  # what was answered before the stop is cached
        metrics = runner.run(_cfg(workspace, server, *extra, "probe.max_cost_usd=1000"),
                             output_dir=tmp_path / "b")
        assert len(server.requests) - stopped_after == n - kept  # only the rest is asked
    assert metrics["usage/probe/calls_cached"] == kept
