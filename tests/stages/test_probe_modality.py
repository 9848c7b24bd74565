"""modality=description end to end, offline: the describer describes every screenshot, the
answerer is asked about each description as text only (the simulated respondent, or a text-only
model behind the loopback OpenAI-compatible server through litellm); describe calls are cached,
and a describer that fails or refuses never produces a "no"."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.fakes.openai_server import (
    CANARY_KEY,
    FakeOpenAIServer,
    refuse,
    reply,
    request_images,
    request_texts,
    status,
)
from tests.stages.conftest import SMALL_DEMO
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.simulation.descriptions import SCENES

OFFLINE = ["stages=[probe]", "modality=description", "describer=respondent"]
FAST = ["probe.n_boot=300", "scoring.n_perm=199"]  # the intervals are not under test here
SCENE_TEXTS = [scene for scenes in SCENES.values() for scene in scenes]


def _run(ws: Path, out: Path, *overrides: str) -> dict[str, float]:
    cfg = compose([f"paths.workspace={ws}", *SMALL_DEMO, *FAST, *overrides])
    return runner.run(cfg, output_dir=out)


def _rows(ws: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_respondent_describes_and_answers_on_the_descriptions(small_demo, tmp_path) -> None:
    metrics = _run(small_demo, tmp_path / "a", *OFFLINE, "probe.ask_why=false")
    described = _rows(small_demo, "SELECT text FROM responses WHERE kind = 'describe'")
    n_shots = _rows(small_demo, "SELECT count(DISTINCT screenshot_id) FROM answers")[0][0]
    assert len(described) == n_shots  # one description per screenshot, kept in the cache
    assert sum(any(s in t for s in SCENE_TEXTS) for (t,) in described) >= 0.9 * n_shots
    undescribed = sum(metrics[f"usage/probe/undescribed_{k}"]
                      for k in ("error", "refused", "no_image", "empty"))
    assert metrics["usage/probe/described"] + undescribed == n_shots and undescribed > 0
    by_describer = _rows(small_demo, "SELECT DISTINCT screenshot_id, outcome, parse_reason "
                                     "FROM answers WHERE decided_by = 'describer'")
    assert len({sid for sid, *_ in by_describer}) == undescribed
    assert {o for _, o, _ in by_describer} <= {"no_image", "error"}  # never a "no"
    # Known truth: the answerer's own expectation of what it read lies in the CIs.
    assert metrics["probe/summary/expected_in_ci"] >= 8
    again = _run(small_demo, tmp_path / "b", *OFFLINE, "probe.ask_why=false")
    assert again["usage/probe/calls_made"] == 0  # descriptions and decisions from the cache
    assert again["probe/score/power"] == metrics["probe/score/power"]
    image = _run(small_demo, tmp_path / "c", "stages=[probe]", "probe.ask_why=false")
    runs = _rows(small_demo, "SELECT count(*) FROM probe_runs")[0][0]
    assert runs == 2 and image["usage/probe/calls_made"] > 0  # the modality is in the run id


def _text_only(body, _index):
    if request_images(body):
        return status(400, message="this model reads text only")
    question = request_texts(body, ("user",))[0]
    return reply("Yes." if "video frame" in question or "photo" in question else "No.")


def test_a_text_only_model_answers_through_litellm_without_any_image(
        small_demo, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", CANARY_KEY)
    with FakeOpenAIServer(_text_only) as server:
        answerer = ["model=openai_compatible", "model.model=openai/fake-llm",
                    f"model.api_base={server.base_url}", "model.supports_vision=false"]
        metrics = _run(small_demo, tmp_path / "a", *OFFLINE, *answerer)
        asked = server.requests
        again = _run(small_demo, tmp_path / "b", *OFFLINE, *answerer)
        assert len(server.requests) == len(asked)  # a re-run makes no call
    assert asked and not any(r.images() for r in asked)
    decisions = [r for r in asked if len(request_texts(r.body, ("user",))) == 1]
    usable = _rows(small_demo, "SELECT count(DISTINCT text) FROM responses WHERE kind = "
                               "'describe' AND (text LIKE 'The image shows%' OR text LIKE "
                               "'A short%' OR text LIKE 'This picture%' OR text LIKE 'It is a%')")
    # one call per distinct description: two screenshots described alike share an answer
    assert len(decisions) == usable[0][0] <= metrics["usage/probe/described"]
    for r in decisions:
        question = request_texts(r.body, ("user",))[0]
        assert "This is a description of it:" in question
        assert any(scene in question for scene in SCENE_TEXTS)
    assert len(asked) == 2 * len(decisions)  # and a text-only "why" after each decision
    outcomes = dict(_rows(small_demo, "SELECT outcome, count(*) FROM answers GROUP BY 1"))
    assert outcomes.get("error", 0) == metrics["usage/probe/undescribed_error"] == 0
    assert outcomes["yes"] > 0 and outcomes["no"] > 0
    assert again["probe/score/power"] == metrics["probe/score/power"]


def _describer(body, _index):
    digest = hashlib.sha256(request_images(body)[0]).digest()[0] % 8
    if digest == 0:
        return status(400, message="image rejected")
    if digest == 1:
        return refuse()
    if digest == 2:
        return reply("I can't see any image attached.")
    return reply(f"The image shows {SCENE_TEXTS[digest]}.")


def test_a_failing_describer_is_counted_as_error_never_as_no(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", CANARY_KEY)
    with FakeOpenAIServer(_describer) as server:
        describer = ["stages=[probe]", "modality=description", "describer=openai_compatible",
                     f"+describer_overrides.api_base={server.base_url}",
                     "+describer_overrides.model=openai/fake-vlm", "probe.ask_why=false",
                     "probe.max_error_rate=0.5"]  # an eighth fail: early calls may run over 20%
        plan = _run(small_demo, tmp_path / "plan", *describer, "probe.plan=true")
        assert not server.requests  # a plan calls nothing
        metrics = _run(small_demo, tmp_path / "a", *describer)
        kinds = {hashlib.sha256(request_images(r.body)[0]).digest()[0] % 8
                 for r in server.requests}
    n_shots = len(server.requests)
    assert {0, 1, 2} <= kinds
    assert plan["usage/probe/plan/describe/calls"] == n_shots
    assert plan["usage/probe/plan/decision/calls"] == n_shots  # one text decision per image
    rows = _rows(small_demo, "SELECT DISTINCT a.screenshot_id, a.outcome, a.parse_reason, "
                             "a.decided_by FROM answers a")
    failed = [r for r in rows if r[3] == "describer" and r[1] == "error"]
    assert failed and all(r[2] == "describe call failed: " + r[2].split(": ", 1)[1]
                          for r in failed)
    assert len(failed) == metrics["usage/probe/undescribed_error"]
    missing = [r for r in rows if r[3] == "describer" and r[1] == "no_image"]
    assert len(missing) == (metrics["usage/probe/undescribed_refused"]
                            + metrics["usage/probe/undescribed_no_image"]) > 0
    assert metrics["usage/probe/undescribed_refused"] > 0
    errors = _rows(small_demo, "SELECT count(*) FROM call_errors WHERE kind = 'describe'")[0][0]
    assert errors == len(failed)
    assert metrics["usage/probe/calls_failed"] == len(failed)
    assert all(o in ("yes", "no", "refusal", "invalid", "no_image")
               for _, o, _, by in rows if by != "describer")
    assert pytest.approx(metrics["usage/probe/described"]) == n_shots - len(failed) - len(missing)
