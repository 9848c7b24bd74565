"""induce: sessions through the real call runner against a loopback fake server; a re-run
replays without calls; a failed call is never a swipe; a killed job resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.fakes.killing import kill_after
from tests.fakes.openai_server import FakeOpenAIServer, reply, request_images, status
from valuespectrum import runner
from valuespectrum.cli import compose

KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"
BASE = ["corpus.n=80", "retrieve.k=1", "progress=false", "tracking.enabled=false"]
SHORT = ["induce.videos=12", "induce.window=4", "induce.n_boot=200", "persona.path=null"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """A collected, indexed and retrieved demo workspace, copied by each test."""
    ws = tmp_path_factory.mktemp("template") / "ws"
    cfg = compose([f"paths.workspace={ws}", *BASE, "stages=[collect,index,retrieve]"])
    runner.run(cfg, output_dir=ws.parent / "out")
    return ws


@pytest.fixture
def workspace(indexed: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(indexed, ws)
    return ws


@pytest.fixture(autouse=True)
def key(monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test")


def likes_odd_images(body, _i):
    """A persona that likes an image when the first byte of its sha256 is odd."""
    odd = hashlib.sha256(request_images(body)[0]).digest()[0] % 2
    return reply(json.dumps({"decision": "yes" if odd else "no", "reason": "r", "trait_num": 1}))


def _cfg(ws: Path, server: FakeOpenAIServer, *extra: str):
    return compose([
        f"paths.workspace={ws}", *BASE, "stages=[induce]", "model=openai_compatible",
        "model.model=openai/fake-vlm", f"model.api_base={server.base_url}",
        "induce.timeout_s=2", "induce.backoff_base_s=0.01", "induce.max_retries=1", *SHORT,
        *extra,
    ])


def _impressions(ws: Path) -> list[tuple]:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT s.persona_id, s.condition, i.position, i.item_id, i.outcome, i.stayed, "
            "i.dwell_ms, i.fingerprint FROM impressions i JOIN sessions s USING (session_id) "
            "ORDER BY 1, 2, 3"
        ).fetchall()


def test_a_rerun_makes_no_call_and_replays_the_same_impressions(workspace, tmp_path):
    with FakeOpenAIServer(likes_odd_images) as server:
        first = runner.run(_cfg(workspace, server), output_dir=tmp_path / "a")
        asked = len(server.requests)
        stored = _impressions(workspace)
        second = runner.run(_cfg(workspace, server), output_dir=tmp_path / "b")
        assert len(server.requests) == asked  # not one call more
    sessions = 12 * 2  # twelve personas, adaptive and control
    assert len(stored) == sessions * 12
    assert first["usage/induce/steps_asked"] == sessions * 12
    assert first["usage/induce/calls_made"] == asked > 0
    assert second["usage/induce/calls_made"] == 0
    assert second["usage/induce/steps_replayed"] == sessions * 12
    assert _impressions(workspace) == stored
    for key in ("induce/net_effect", "induce/I_avg/adaptive", "induce/I_avg/control"):
        assert second[key] == first[key]
    # what the model said decides the stay, and the feed saw the agent's dwell
    assert {(o, s, d) for *_, o, s, d, _fp in stored} == {("yes", True, 5000), ("no", False, 500)}


def test_a_failed_call_ends_its_session_and_the_next_run_finishes_it(workspace, tmp_path):
    def flaky(body, i):
        return status(400, message="bad request") if i % 50 == 7 else likes_odd_images(body, i)

    with FakeOpenAIServer(flaky) as server:
        m = runner.run(_cfg(workspace, server, "induce.max_error_rate=0.5"),
                       output_dir=tmp_path / "a")
        assert m["usage/induce/steps_failed"] >= 1
        assert m["usage/induce/sessions_failed"] == m["usage/induce/steps_failed"]
        with duckdb.connect(str(workspace / "valuespectrum.duckdb"), read_only=True) as con:
            failed = con.execute("SELECT count(*) FROM sessions WHERE status = 'failed'"
                                 ).fetchone()[0]
            errors = con.execute("SELECT count(*) FROM call_errors WHERE kind = 'induce'"
                                 ).fetchone()[0]
            unexplained = con.execute(
                "SELECT count(*) FROM sessions WHERE status = 'failed' AND error IS NULL"
            ).fetchone()[0]
        # Sessions asking the very same call (same item, persona, prompt) share one request,
        # so one recorded error may end several sessions; each failed session names its cause.
        assert failed == m["usage/induce/sessions_failed"] and errors >= 1 and unexplained == 0
        server.script = likes_odd_images
        again = runner.run(_cfg(workspace, server), output_dir=tmp_path / "b")
    assert again["usage/induce/sessions_failed"] == 0
    assert again["usage/induce/steps_replayed"] > 0
    assert len(_impressions(workspace)) == 24 * 12


KILLABLE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from valuespectrum import runner
    from valuespectrum.cli import compose
    cfg = compose(sys.argv[3:])
    runner.run(cfg, output_dir=Path(sys.argv[2]))
    """
)


def _kill_after(overrides: list[str], server: FakeOpenAIServer, out: Path, requests: int) -> None:
    """Start an induce job in a subprocess and SIGKILL it once the server has seen
    ``requests`` calls (it must still be running then)."""
    kill_after(KILLABLE, ["x", str(out), *overrides], server, requests=requests)


def test_a_killed_job_resumes_at_its_last_impression(indexed, tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    shutil.copytree(indexed, clean)
    shutil.copytree(indexed, killed)
    with FakeOpenAIServer(likes_odd_images, latency_s=0.02) as server:
        runner.run(_cfg(clean, server), output_dir=tmp_path / "c")
        expected = _impressions(clean)
        overrides = [
            f"paths.workspace={killed}", *BASE, "stages=[induce]", "model=openai_compatible",
            "model.model=openai/fake-vlm", f"model.api_base={server.base_url}", *SHORT,
            "induce.concurrency=2",
        ]
        before = len(server.requests)
        _kill_after(overrides, server, tmp_path / "k", requests=before + 120)
        kept = len(_impressions(killed))
        assert 0 < kept < len(expected)
        m = runner.run(compose(overrides), output_dir=tmp_path / "r")
    assert m["usage/induce/steps_replayed"] == kept
    assert _impressions(killed) == expected


DEMO = ["experiment=roleplay_demo", "progress=false", "corpus.n=300", "retrieve.k=1",
        "induce.videos=40", "induce.window=10", "recommender.cold_start=10"]


@pytest.fixture(scope="module")
def demo_corpus(tmp_path_factory) -> Path:
    """A demo corpus large enough that a 40-video session leaves most of it unseen."""
    ws = tmp_path_factory.mktemp("demo") / "ws"
    runner.run(compose([f"paths.workspace={ws}", *DEMO, "stages=[collect,index,retrieve]",
                        "tracking.enabled=false"]), output_dir=ws.parent / "out")
    return ws


def test_known_truth_the_adaptive_feed_learns_the_persona_respondent(demo_corpus, tmp_path):
    """The SIMULATED persona respondent likes its persona's favoured values: on the adaptive
    feed its yes-rate rises against the control's (CI excludes 0); on a random feed it does
    not (the effect is 0 within its CI)."""
    from mlflow.tracking import MlflowClient

    workspace = demo_corpus
    adaptive = runner.run(compose([f"paths.workspace={workspace}", *DEMO, "stages=[induce]"]),
                          output_dir=tmp_path / "a")
    assert adaptive["induce/net_effect_ci_low"] > 0
    assert adaptive["induce/amplification_gain"] > 10  # points of favoured items served
    # the MLflow run holds I, I_avg, the control, the net effect with CI, amplification, plots
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("valuespectrum").experiment_id])
    assert {"induce/I_avg/adaptive", "induce/I_avg_ci_low/adaptive", "induce/I_avg/control",
            "induce/net_effect", "induce/net_effect_ci_high", "induce/amplification_gain",
            "induce/time_to_personalisation"} <= set(run.data.metrics)
    assert any(k.startswith("induce/I/adaptive/") for k in run.data.metrics)
    files = {a.path for a in client.list_artifacts(run.info.run_id, "induce")}
    assert {"induce/yes_rate.png", "induce/amplification.png", "induce/diversity.png",
            "induce/i_avg.png", "induce/inductions.csv"} <= files
    flat = runner.run(compose([f"paths.workspace={workspace}", *DEMO, "stages=[induce]",
                               "recommender=random", "tracking.enabled=false"]),
                      output_dir=tmp_path / "r")
    assert flat["induce/net_effect_ci_low"] <= 0 <= flat["induce/net_effect_ci_high"]
    assert flat["induce/I_avg_ci_low/adaptive"] <= 0 <= flat["induce/I_avg_ci_high/adaptive"]


def test_a_feed_smaller_than_a_session_is_refused_in_one_line(workspace, tmp_path):
    from valuespectrum.config import ConfigError

    with FakeOpenAIServer(likes_odd_images) as server:
        with pytest.raises(ConfigError, match=r"the feed holds 80 items, fewer than "
                                              r"induce.videos=100; collect more"):
            runner.run(_cfg(workspace, server, "induce.videos=100"), output_dir=tmp_path)
        assert server.requests == []


PRICED = ["model.prices.input_per_mtok=1.0", "model.prices.output_per_mtok=1000.0"]


def _induce_cost(ws: Path) -> float:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        return con.execute("SELECT sum(cost_usd) FROM responses WHERE kind = 'induce'"
                           ).fetchone()[0]


def test_the_calls_are_costed_and_a_rerun_counts_their_cost_as_cached(workspace, tmp_path):
    with FakeOpenAIServer(likes_odd_images) as server:
        first = runner.run(_cfg(workspace, server, *PRICED, "induce.control=false",
                                "plots.formats=[png,pdf]"), output_dir=tmp_path / "a")
        again = runner.run(_cfg(workspace, server, *PRICED, "induce.control=false"),
                           output_dir=tmp_path / "b")
    spent = _induce_cost(workspace)
    assert spent > 0
    assert first["usage/induce/cost_usd_spent"] == pytest.approx(spent)
    assert first["usage/induce/cost_usd_cached"] == 0.0
    assert again["usage/induce/cost_usd_spent"] == 0.0  # every step replayed: no call
    assert again["usage/induce/cost_usd_cached"] == pytest.approx(spent)
    # plots.formats reaches the role-play figures too
    pdfs = {p.name for p in (tmp_path / "a").rglob("induce/*.pdf")}
    assert {"yes_rate.pdf", "amplification.pdf", "diversity.pdf", "i_avg.pdf"} <= pdfs
    assert not list((tmp_path / "b").rglob("induce/*.pdf"))  # the default: PNG and SVG


def test_an_unknown_cost_is_tagged_unknown_never_logged_as_zero(workspace, tmp_path):
    from mlflow.tracking import MlflowClient

    with FakeOpenAIServer(likes_odd_images) as server:  # openai/fake-vlm has no price
        metrics = runner.run(compose([
            f"paths.workspace={workspace}", "corpus.n=80", "retrieve.k=1", "progress=false",
            "stages=[induce]", "model=openai_compatible", "model.model=openai/fake-vlm",
            f"model.api_base={server.base_url}", "induce.control=false", *SHORT,
        ]), output_dir=tmp_path / "out")
    assert metrics["usage/induce/calls_made"] > 0
    assert "usage/induce/cost_usd_spent" not in metrics
    assert metrics["usage/induce/cost_usd_cached"] == 0.0  # nothing stored before: a known 0
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("valuespectrum").experiment_id])
    assert run.data.tags["usage.induce.cost_usd_spent"] == "unknown"
    assert "usage/induce/cost_usd_spent" not in run.data.metrics


def test_a_job_whose_every_session_failed_stops_with_one_line(workspace, tmp_path):
    from valuespectrum.stages.induce import NoSessionFinished

    def broken(_body, _i):
        return status(500, message="upstream exploded")

    with FakeOpenAIServer(broken) as server:
        with pytest.raises(NoSessionFinished) as raised:
            runner.run(_cfg(workspace, server, "induce.max_retries=0",
                            "induce.max_error_rate=1.0"), output_dir=tmp_path)
        assert len(server.requests) == 24  # each session's first step, asked once
    message = str(raised.value)
    assert "\n" not in message
    assert "no session finished (sessions_failed=24 of 24" in message
    assert "upstream exploded" in message


def test_a_persona_finished_in_one_condition_only_is_said_and_counted(workspace, tmp_path,
                                                                      caplog):
    def first_fails(body, i):
        return status(400, message="bad request") if i == 0 else likes_odd_images(body, i)

    with FakeOpenAIServer(first_fails) as server, caplog.at_level("WARNING"):
        m = runner.run(_cfg(workspace, server, "induce.max_retries=0"),
                       output_dir=tmp_path)
    assert m["usage/induce/sessions_failed"] == 1
    assert m["induce/net_paired_personas"] == 11  # twelve personas, one lost a condition
    warned = [r.getMessage() for r in caplog.records if "one condition only" in r.getMessage()]
    assert len(warned) == 1 and "the net effect pairs 11 persona(s)" in warned[0]
