"""probe: every call through the real litellm client against a loopback fake server; faults
end as answers or ``error`` (never "no"); the cache makes re-runs free and kill-safe; keys
stay out of every record."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tests.fakes.fault_plan import FaultPlan
from tests.fakes.killing import kill_after
from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer, reply, status
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.config import ConfigError
from valuespectrum.models.calls import ErrorRateExceeded
from valuespectrum.probe.prompts import encode_image

KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"
BASE = ["corpus.n=40", "retrieve.k=1", "progress=false"]
PLAN_TO_OUTCOME = {"refuse": "refusal", "garbage": "invalid"}
SEED = 3


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """A collected and indexed demo workspace, copied by each test that writes to it."""
    ws = tmp_path_factory.mktemp("template") / "ws"
    cfg = compose(
        [
            f"paths.workspace={ws}",
            *BASE,
            "stages=[collect,index,retrieve]",
            "tracking.enabled=false",
        ]
    )
    runner.run(cfg, output_dir=ws.parent / "out")
    return ws


@pytest.fixture
def workspace(indexed: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(indexed, ws)
    return ws


@pytest.fixture
def canary_key(monkeypatch) -> str:
    monkeypatch.setenv(KEY_ENV, CANARY_KEY)
    return CANARY_KEY


def _cfg(ws: Path, server: FakeOpenAIServer, *extra: str):
    return compose(
        [
            f"paths.workspace={ws}",
            *BASE,
            "stages=[probe]",
            "model=openai_compatible",
            "model.model=openai/fake-vlm",
            f"model.api_base={server.base_url}",
            "probe.timeout_s=1",
            "probe.backoff_base_s=0.01",
            "probe.max_retries=2",
            "probe.concurrency=8",
            "tracking.enabled=false",
            *extra,
        ]
    )


def _db(ws: Path):
    return duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True)


def test_faults_end_as_answers_or_errors_exactly_as_served(workspace, tmp_path, canary_key):
    # 20% faults: refusals, garbage, 429 with Retry-After, 500s, hangs and permanent failures.
    plan = FaultPlan(
        seed=SEED,
        p_refuse=0.04,
        p_garbage=0.04,
        p_429=0.04,
        p_500=0.03,
        p_hang=0.01,
        p_fail=0.04,
        p_yes=0.4,
        hang_s=3.0,
    )
    with FakeOpenAIServer(plan) as server:
        cfg = _cfg(workspace, server, "probe.ask_why=false")
        metrics = runner.run(cfg, output_dir=tmp_path / "out")
        sent = server.requests
    assert sent and all(r.headers["authorization"] == f"Bearer {CANARY_KEY}" for r in sent)
    served = {}  # sha256 of the JPEG the server received -> final outcome the plan gave it
    for req in sent:
        (img,) = req.images()
        served[hashlib.sha256(img).hexdigest()] = plan.expected(FaultPlan.key(req.body), 2)
    with _db(workspace) as con:
        answers = con.execute(
            "SELECT a.outcome, s.file_path FROM answers a "
            "JOIN screenshots s ON s.id = a.screenshot_id"
        ).fetchall()
        totals = con.execute(
            "SELECT sum(n_yes), sum(n_no), sum(n_refusal), sum(n_invalid), sum(n_error) FROM scores"
        ).fetchone()
    assert len(answers) == 100
    for outcome, path in answers:
        # The server received the real screenshot, and the item ended as the server meant.
        sha = encode_image(workspace / path, max_side=768).sha256
        assert outcome == PLAN_TO_OUTCOME.get(served[sha], served[sha]), path
    stored = Counter(outcome for outcome, _ in answers)
    assert set(stored) == {"yes", "no", "refusal", "invalid", "error"}
    assert list(totals) == [stored[o] for o in ("yes", "no", "refusal", "invalid", "error")]
    assert metrics["usage/probe/n_error"] == stored["error"]


def test_rerun_makes_no_call_and_cache_keys_follow_what_matters(workspace, tmp_path, canary_key):
    with FakeOpenAIServer([reply("Yes.")]) as server:
        runner.run(_cfg(workspace, server), output_dir=tmp_path / "a")
        first = len(server.requests)
        again = runner.run(_cfg(workspace, server), output_dir=tmp_path / "b")
        assert len(server.requests) == first and again["usage/probe/calls_made"] == 0
        assert again["usage/probe/calls_cached"] == first
        reworded = runner.run(
            _cfg(
                workspace,
                server,
                "probe.ask_why=false",
                "prompts.decision='Would you keep watching? (Yes or No)'",
            ),
            output_dir=tmp_path / "c",
        )
        assert reworded["usage/probe/calls_made"] == first / 2  # every decision missed the cache
        other_model = runner.run(
            _cfg(workspace, server, "probe.ask_why=false", "model.model=openai/fake-vlm-v2"),
            output_dir=tmp_path / "d",
        )
        assert other_model["usage/probe/calls_made"] == first / 2
        sampled = runner.run(
            _cfg(
                workspace,
                server,
                "probe.ask_why=false",
                "probe.samples=2",
                "model.generation.temperature=1.0",
            ),
            output_dir=tmp_path / "e",
        )
        # two samples per image, each its own call
        assert sampled["usage/probe/calls_made"] == first


def _score_sets(ws: Path) -> dict[str, list[tuple]]:
    """scoring_key -> the rows of that score set."""
    with _db(ws) as con:
        rows = con.execute(
            "SELECT scoring_key, value, score, ci_low, ci_high FROM scores ORDER BY 1, 2"
        ).fetchall()
    sets: dict[str, list[tuple]] = {}
    for key, *rest in rows:
        sets.setdefault(key, []).append(tuple(rest))
    return sets


def test_rerun_with_other_scoring_settings_keeps_both_score_sets(workspace, tmp_path, canary_key):
    with FakeOpenAIServer(FaultPlan(seed=SEED, p_yes=0.5)) as server:
        runner.run(_cfg(workspace, server, "probe.ask_why=false", "probe.n_boot=50"),
                   output_dir=tmp_path / "a")
        with _db(workspace) as con:
            assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 10
        (first,) = _score_sets(workspace).values()
        seen = len(server.requests)
        runner.run(_cfg(workspace, server, "probe.ask_why=false", "probe.n_boot=60"),
                   output_dir=tmp_path / "b")
        assert len(server.requests) == seen  # scoring settings never change the calls
        with _db(workspace) as con:  # before: the second job overwrote the first one's rows
            assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 20
        sets = _score_sets(workspace)
        runner.run(_cfg(workspace, server, "probe.ask_why=false", "probe.n_boot=50"),
                   output_dir=tmp_path / "c")
    assert _score_sets(workspace) == sets  # the same settings replace their own set only
    assert len(sets) == 2
    # the same answers: the same scores; the intervals come from other replicates
    assert [[r[:2] for r in rows] for rows in sets.values()] == [[r[:2] for r in first]] * 2
    with _db(workspace) as con:
        recorded = con.execute("SELECT DISTINCT scoring FROM scores").fetchall()
    assert sorted(json.loads(r[0])["n_boot"] for r in recorded) == [50, 60]


def test_a_failed_scores_write_fails_the_job_and_leaves_no_finished_results(
    workspace, tmp_path, canary_key, monkeypatch
):
    """The scores are written in a thread while the table and files are made: a failed write
    still fails the job, before anything is logged, and leaves no results folder marked done;
    the next run writes both."""
    from valuespectrum.store import ProbeStore

    replace = ProbeStore.replace_scores

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ProbeStore, "replace_scores", staticmethod(disk_full))
    with FakeOpenAIServer(FaultPlan(seed=SEED, p_yes=0.5)) as server:
        cfg = _cfg(workspace, server, "probe.ask_why=false", "probe.n_boot=50")
        with pytest.raises(OSError, match="disk full"):
            runner.run(cfg, output_dir=tmp_path / "a")
        assert not list((workspace / "probe").glob("*/*/scores.parquet"))
        assert not list((tmp_path / "a").rglob("scores-*.parquet"))  # nothing published
        monkeypatch.setattr(ProbeStore, "replace_scores", staticmethod(replace))
        seen = len(server.requests)
        runner.run(cfg, output_dir=tmp_path / "b")
        assert len(server.requests) == seen  # the answers were kept: nothing asked again
    assert len(list((workspace / "probe").glob("*/*/scores.parquet"))) == 1
    with _db(workspace) as con:
        assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 10


def test_first_calls_go_out_while_later_images_are_still_encoding(
    workspace, tmp_path, canary_key, monkeypatch
):
    import valuespectrum.probe.encoding as encoding_module

    encode, encoded_at = encoding_module.encode_image, []

    def slow_encode(*args, **kwargs):  # real screenshots take tens of ms each to encode
        time.sleep(0.05)
        part = encode(*args, **kwargs)
        encoded_at.append(time.monotonic())
        return part

    monkeypatch.setattr(encoding_module, "encode_image", slow_encode)
    with FakeOpenAIServer([reply("Yes.")]) as server:
        metrics = runner.run(_cfg(workspace, server, "probe.ask_why=false"),
                             output_dir=tmp_path / "a")
        first_call = min(r.received_at for r in server.requests)
    assert metrics["usage/probe/n_yes"] == 100 and len(encoded_at) > 8
    assert first_call < max(encoded_at)


def test_failed_calls_are_not_cached_and_error_rate_stops_the_run(workspace, tmp_path, canary_key):
    with FakeOpenAIServer([status(500)]) as server:
        cfg = _cfg(workspace, server, "probe.max_retries=0", "probe.max_error_rate=0.5")
        with pytest.raises(ErrorRateExceeded, match=r"probe\.max_error_rate"):
            runner.run(cfg, output_dir=tmp_path / "a")
        with _db(workspace) as con:
            assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 0
            assert con.execute("SELECT count(*) FROM call_errors").fetchone()[0] >= 20
        server.script = [reply("No.")]
        metrics = runner.run(
            _cfg(workspace, server, "probe.ask_why=false"), output_dir=tmp_path / "b"
        )
    assert metrics["usage/probe/n_no"] == 100 and metrics["usage/probe/n_error"] == 0


def test_missing_key_fails_before_any_work(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = compose([f"paths.workspace={tmp_path}/ws", "model=gpt4o", "tracking.enabled=false"])
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        runner.run(cfg, output_dir=tmp_path / "out")
    assert not (tmp_path / "ws").exists()


def test_canary_key_appears_nowhere(workspace, tmp_path, canary_key, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAIServer([reply("Yes."), status(401, echo_auth=True), reply("No.")]) as server:
        cfg = _cfg(workspace, server, "tracking.enabled=true", "probe.max_error_rate=1")
        runner.run(cfg, output_dir=tmp_path / "out")
    places = [p for p in workspace.rglob("*") if p.is_file()]
    places += [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in places)
    for path in places:
        assert CANARY_KEY.encode() not in path.read_bytes(), path
    printed = capsys.readouterr()
    assert caplog.records and CANARY_KEY not in caplog.text
    assert CANARY_KEY not in printed.out + printed.err


KILLABLE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from valuespectrum import runner
    from valuespectrum.cli import compose
    cfg = compose([f"paths.workspace={sys.argv[1]}", "corpus.n=40", "retrieve.k=1",
                   "progress=false", "stages=[probe]", "model=openai_compatible",
                   "model.model=openai/fake-vlm", f"model.api_base={sys.argv[2]}",
                   "probe.concurrency=2", "probe.ask_why=false", "tracking.enabled=false"])
    runner.run(cfg, output_dir=Path(sys.argv[3]))
    """
)


def _kill_probe_after(ws: Path, server: FakeOpenAIServer, out: Path, *, requests: int) -> None:
    """Start a probe job on ``ws`` in a subprocess and SIGKILL it once the server has seen
    ``requests`` calls (it must still be running then)."""
    kill_after(KILLABLE, [str(ws), server.base_url, str(out)], server, requests=requests)


def test_sigkill_mid_probe_then_resume_makes_only_missing_calls(workspace, tmp_path, canary_key):
    with FakeOpenAIServer([reply("Yes.")], latency_s=0.1) as server:
        _kill_probe_after(workspace, server, tmp_path / "k", requests=20)
        with _db(workspace) as con:
            saved = con.execute("SELECT count(*) FROM responses").fetchone()[0]
        assert 0 < saved < 40
        before = len(server.requests)
        metrics = runner.run(
            _cfg(workspace, server, "probe.ask_why=false"), output_dir=tmp_path / "resumed"
        )
        made = len(server.requests) - before
    assert metrics["usage/probe/calls_cached"] == saved
    assert made == metrics["usage/probe/calls_made"]
    with _db(workspace) as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT fingerprint) FROM responses"
        ).fetchone()
        n_answers, n_images = con.execute(
            "SELECT count(*), count(DISTINCT screenshot_id) FROM answers"
        ).fetchone()
    # Each image was asked exactly once over both runs: nothing repeated, nothing missing.
    assert total == distinct == saved + made == n_images
    assert n_answers == 100


def _scores(ws: Path) -> list[tuple]:
    with _db(ws) as con:
        return con.execute(
            "SELECT value, score, ci_low, ci_high, n_yes, n_no, n_error FROM scores ORDER BY value"
        ).fetchall()


def test_permanent_failures_keep_rerun_free_and_retry_only_when_asked(workspace, tmp_path,
                                                                     canary_key):
    # 10% of images get a 400 (non-retryable) every time: a permanent item failure.
    plan = FaultPlan(seed=SEED, p_reject=0.1, p_yes=0.5)
    with FakeOpenAIServer(plan) as server:
        first = runner.run(
            _cfg(workspace, server, "probe.ask_why=false"), output_dir=tmp_path / "a"
        )
        rejected = first["usage/probe/calls_failed"]  # distinct images; answers may repeat an image
        assert 0 < rejected < 20 and first["usage/probe/n_error"] >= rejected
        scores = _scores(workspace)
        seen = len(server.requests)
        again = runner.run(
            _cfg(workspace, server, "probe.ask_why=false"), output_dir=tmp_path / "b"
        )
        assert len(server.requests) == seen  # nothing asked again
        assert again["usage/probe/calls_skipped_failed"] == rejected
        assert _scores(workspace) == scores
        with _db(workspace) as con:
            reasons = con.execute(
                "SELECT DISTINCT parse_reason FROM answers WHERE outcome = 'error'"
            ).fetchall()
        assert reasons and all("bad_request" in r[0] for r in reasons), reasons
        # Same answers, so the same results folder: nothing redrawn for the re-run.
        assert len([p for p in (workspace / "probe").glob("*/*") if p.is_dir()]) == 1
        # A lower budget judges the whole job even when nothing is left to call.
        strict = _cfg(workspace, server, "probe.ask_why=false", "probe.max_error_rate=0.01")
        with pytest.raises(ErrorRateExceeded, match="in earlier runs"):
            runner.run(strict, output_dir=tmp_path / "strict")
        assert len(server.requests) == seen
        retry = [*("probe.ask_why=false", "probe.retry_failed=true", "probe.max_failed_runs=2")]
        runner.run(_cfg(workspace, server, *retry), output_dir=tmp_path / "c")
        assert len(server.requests) == seen + rejected  # asked once more, failed again
        runner.run(_cfg(workspace, server, *retry), output_dir=tmp_path / "d")
        assert len(server.requests) == seen + rejected  # two failed runs: no more attempts
    assert _scores(workspace) == scores


def test_retryable_failures_are_asked_again_within_the_whole_job_budget(workspace, tmp_path,
                                                                       canary_key):
    # 10% of images always get a 500: retried on every run, but the budget judges the whole job
    # (before, the re-run saw only the failing calls and stopped at "100% > max").
    plan = FaultPlan(seed=SEED, p_fail=0.1, p_yes=0.5)
    with FakeOpenAIServer(plan) as server:
        extra = ("probe.ask_why=false", "probe.max_retries=0")
        first = runner.run(_cfg(workspace, server, *extra), output_dir=tmp_path / "a")
        failed = first["usage/probe/calls_failed"]
        scores, seen = _scores(workspace), len(server.requests)
        again = runner.run(_cfg(workspace, server, *extra), output_dir=tmp_path / "b")
    assert failed > 0 and again["usage/probe/calls_made"] == failed
    assert len(server.requests) == seen + failed
    assert _scores(workspace) == scores


def test_sigkill_then_resume_with_permanent_failures_gives_the_same_scores(indexed, tmp_path,
                                                                          canary_key):
    plan = FaultPlan(seed=SEED, p_reject=0.1, p_yes=0.5)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    shutil.copytree(indexed, clean)
    shutil.copytree(indexed, killed)
    with FakeOpenAIServer(plan) as server:
        runner.run(_cfg(clean, server, "probe.ask_why=false"), output_dir=tmp_path / "a")
    with FakeOpenAIServer(FaultPlan(seed=SEED, p_reject=0.1, p_yes=0.5), latency_s=0.1) as server:
        _kill_probe_after(killed, server, tmp_path / "k", requests=24)
        runner.run(_cfg(killed, server, "probe.ask_why=false"), output_dir=tmp_path / "r")
        seen = len(server.requests)
        runner.run(_cfg(killed, server, "probe.ask_why=false"), output_dir=tmp_path / "r2")
        assert len(server.requests) == seen
    assert _scores(killed) == _scores(clean)


def test_calls_spread_over_worker_processes_end_exactly_as_calls_made_here(
        indexed, tmp_path, canary_key):
    """probe.client_processes=2: the same faults end as the same answers, scores and call
    counts as with every call made in this process, and a re-run is the same too."""
    import asyncio

    from valuespectrum.models.litellm_backend import LiteLLMModel
    from valuespectrum.models.spread import SpreadModel

    runs = {}
    for processes in ("0", "2"):  # a fresh plan each: it counts the attempts per item
        plan = FaultPlan(seed=SEED, p_refuse=0.05, p_garbage=0.05, p_429=0.05, p_500=0.05,
                         p_hang=0.02, p_fail=0.05, p_yes=0.4, hang_s=8.0)
        with FakeOpenAIServer(plan) as server:
            if processes != "0":  # the workers are up before the stage, so it uses them
                warm = SpreadModel(LiteLLMModel("warm", "openai/fake-vlm",
                                                api_base=server.base_url), int(processes))
                assert asyncio.run(warm.ready(60)) == int(processes)
                asyncio.run(warm.aclose())
                server.script = plan  # nothing the warm-up did is counted
            ws = tmp_path / f"ws{processes}"
            shutil.copytree(indexed, ws)
            cfg = _cfg(ws, server, "probe.ask_why=false", "probe.timeout_s=3",  # < its hangs
                       f"probe.client_processes={processes}")
            metrics = runner.run(cfg, output_dir=tmp_path / f"out{processes}")
            again = runner.run(cfg, output_dir=tmp_path / f"again{processes}")
            with _db(ws) as con:
                answers = con.execute(
                    "SELECT s.file_path, a.value, a.outcome, a.parse_reason "
                    "FROM answers a JOIN screenshots s ON s.id = a.screenshot_id "
                    "ORDER BY 1, 2").fetchall()  # (the fingerprint holds the port)
            runs[processes] = (metrics, again, answers, _scores(ws))
    (here, here_again, here_answers, here_scores) = runs["0"]
    (spread, spread_again, spread_answers, spread_scores) = runs["2"]
    assert "usage/probe/calls_in_workers" not in here
    assert spread["usage/probe/calls_in_workers"] > spread["usage/probe/calls_made"] / 2
    assert spread_answers == here_answers and len(here_answers) == 100
    assert {row[2] for row in here_answers} == {"yes", "no", "refusal", "invalid", "error"}
    assert spread_scores == here_scores
    for key in ("calls_made", "calls_failed", "calls_retried", "n_error"):
        assert spread[f"usage/probe/{key}"] == here[f"usage/probe/{key}"], key
    # a re-run asks again only what ran out of retries (its 429s, 500s and hangs), both ways
    for key in ("calls_made", "calls_cached"):
        assert spread_again[f"usage/probe/{key}"] == here_again[f"usage/probe/{key}"], key
    assert here_again["usage/probe/calls_made"] > 0 and here["usage/probe/n_error"] > 0
