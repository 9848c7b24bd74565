"""Each robustness axis end to end on the small demo with the SIMULATED respondent, whose
effects are known: acquiescence and order bias recovered within their intervals, the known-truth
check holding with every effect on, the reverse question, the system turn and the blank image.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import duckdb
import pytest

from tests.stages.conftest import SMALL_DEMO
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.config import ConfigError
from valuespectrum.values import VALUES

BASE = [*SMALL_DEMO, "model.perceive=oracle", "probe.ask_why=false", "stages=[probe]"]
PROFILE = compose(["model=respondent"]).model.profile


def _probe(ws: Path, out: Path, *extra: str) -> dict[str, float]:
    return runner.run(compose([f"paths.workspace={ws}", *BASE, *extra]), output_dir=out)


def _rows(ws: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _latest(ws: Path) -> str:
    return _rows(ws, "SELECT probe_run FROM probe_runs ORDER BY created_at DESC LIMIT 1")[0][0]


def _themes(ws: Path, run: str) -> list[tuple]:
    """(keying, answer_order, theme) of each clearly answered row of ``run``."""
    return _rows(ws, "SELECT a.keying, a.answer_order, s.theme FROM answers a JOIN screenshots s"
                     f" ON s.id = a.screenshot_id WHERE a.probe_run = '{run}'"
                     " AND a.outcome IN ('yes', 'no')")  # fmt: skip


def _clip(p: float) -> float:
    return min(1.0, max(0.0, p))


def test_acquiescence_of_a_yes_saying_respondent_is_recovered_within_its_ci(
    small_demo, tmp_path, capsys
):
    metrics = _probe(small_demo, tmp_path / "out", "probe.keying=both", "model.acquiescence=15",
                     "probe.samples=2")
    run = _latest(small_demo)
    rows = _themes(small_demo, run)
    forward = [_clip(PROFILE[t] / 100 + 0.15) for k, _, t in rows if k == "forward"]
    reverse = [_clip(1 - PROFILE[t] / 100 + 0.15) for k, _, t in rows if k == "reverse"]
    expected = 100 * (statistics.fmean(forward) + statistics.fmean(reverse)) - 100
    assert 20 < expected < 30  # 2 x 15 points, less where a yes-rate reaches 100
    low, high = metrics["probe/acquiescence_ci_low"], metrics["probe/acquiescence_ci_high"]
    assert low <= expected <= high and low > 10
    assert low <= metrics["probe/acquiescence"] <= high
    # the score counts the forward answers only: the known-truth check holds as ever
    assert metrics["probe/summary/expected_in_ci"] >= 8
    keyed = dict(_rows(small_demo, f"SELECT keying, count(*) FROM answers WHERE probe_run = "
                                   f"'{run}' GROUP BY 1"))  # fmt: skip
    assert keyed["forward"] == keyed["reverse"] > 0
    stored = _rows(small_demo, f"SELECT value, acquiescence, acquiescence_ci_low, reverse_yes_rate"
                               f" FROM scores WHERE probe_run = '{run}'")  # fmt: skip
    assert len(stored) == 10 and all(a is not None and r is not None for _, a, _, r in stored)
    printed = capsys.readouterr().out
    assert "acquiescence (yes% forward + yes% reverse - 100" in printed
    summaries = list((tmp_path / "out").rglob("summary.html"))
    assert summaries and "acquiescence" in summaries[0].read_text()


def test_counterbalanced_order_bias_is_recovered_within_its_ci(small_demo, tmp_path, capsys):
    # para_taste names its options before the question: "(Yes or No) Answer for yourself: ..."
    metrics = _probe(small_demo, tmp_path / "out", "probe.answer_order=counterbalanced",
                     "model.order_bias=10", "prompts=para_taste")  # fmt: skip
    run = _latest(small_demo)
    rows = _themes(small_demo, run)
    first = [_clip(PROFILE[t] / 100 + 0.1) for _, o, t in rows if o == "yes_first"]
    second = [_clip(PROFILE[t] / 100 - 0.1) for _, o, t in rows if o == "no_first"]
    expected = 100 * (statistics.fmean(first) - statistics.fmean(second))
    low, high = metrics["probe/order_effect_ci_low"], metrics["probe/order_effect_ci_high"]
    assert low <= expected <= high and low > 0
    per_order = dict(_rows(small_demo, f"SELECT answer_order, count(*) FROM answers WHERE "
                                       f"probe_run = '{run}' GROUP BY 1"))  # fmt: skip
    assert abs(per_order["yes_first"] - per_order["no_first"]) <= 10  # one per value at most
    asked = _rows(small_demo, "SELECT DISTINCT request FROM responses WHERE kind='decision'")
    texts = {m["content"][-1] for r in asked for m in json.loads(r[0])["messages"]
             if m["role"] == "user"}  # fmt: skip
    assert any(t.startswith("(No or Yes) Answer for yourself") for t in texts)
    assert "answer-order effect" in capsys.readouterr().out
    assert "probe/acquiescence" not in metrics


def test_the_known_truth_check_holds_with_every_effect_on(small_demo, tmp_path):
    effects = ["model.acquiescence=15", "model.order_bias=10", "model.wording_sensitivity=5"]
    metrics = _probe(small_demo, tmp_path / "out", "probe.answer_order=counterbalanced", *effects)
    assert metrics["probe/summary/expected_in_ci"] >= 8
    plain = _probe(small_demo, tmp_path / "plain")
    moved = [metrics[f"probe/score_expected/{v}"] - plain[f"probe/score_expected/{v}"]
             for v in VALUES]  # fmt: skip
    assert statistics.fmean(moved) > 5  # the expectation accounts for the effects


def test_reverse_keying_scores_the_share_of_reverse_no(small_demo, tmp_path):
    metrics = _probe(small_demo, tmp_path / "out", "probe.keying=reverse")
    assert metrics["probe/summary/expected_in_ci"] >= 8
    assert metrics["probe/reverse_yes_rate"] < 40  # it mostly likes: it would rarely scroll past
    run = _latest(small_demo)
    keyed = _rows(small_demo, f"SELECT DISTINCT keying FROM answers WHERE probe_run = '{run}'")
    assert keyed == [("reverse",)]
    # a reverse "no" is a like: without effects, the same expectation as the forward question's
    forward = _probe(small_demo, tmp_path / "forward")
    for v in VALUES:
        assert metrics[f"probe/score_expected/{v}"] == pytest.approx(
            forward[f"probe/score_expected/{v}"], abs=0.01)


def test_system_prompt_off_sends_no_system_turn_and_misses_the_cache(small_demo, tmp_path):
    on = _probe(small_demo, tmp_path / "on")
    off = _probe(small_demo, tmp_path / "off", "probe.system_prompt=false")
    assert off["usage/probe/calls_made"] == on["usage/probe/calls_made"] > 0
    requests = [json.loads(r[0]) for r in _rows(small_demo, "SELECT request FROM responses")]
    roles = [tuple(m["role"] for m in r["messages"]) for r in requests]
    assert roles.count(("user",)) == roles.count(("system", "user")) > 0
    assert len(_rows(small_demo, "SELECT * FROM probe_runs")) == 2


def test_the_blank_image_control_asks_one_grey_picture_and_expects_the_profile_mean(
    small_demo, tmp_path
):
    samples = ["probe.samples=4"]
    metrics = _probe(small_demo, tmp_path / "out", "probe.image=blank", *samples)
    run = _latest(small_demo)
    calls = _rows(small_demo, f"SELECT count(DISTINCT fingerprint) FROM answers WHERE probe_run "
                              f"= '{run}'")  # fmt: skip
    assert calls == [(4,)]  # every demo image has one size: one grey picture, one call a sample
    images = _rows(small_demo, "SELECT count(DISTINCT image_sha256) FROM responses")
    assert images == [(1,)]
    mean = 100 * 0.95 * statistics.fmean(PROFILE.values()) / 100 / 0.99
    for value in VALUES:
        assert metrics[f"probe/score_expected/{value}"] == pytest.approx(mean, abs=0.01)


def test_default_axes_keep_the_forward_calls_when_more_are_asked(small_demo, tmp_path):
    first = _probe(small_demo, tmp_path / "a")
    both = _probe(small_demo, tmp_path / "b", "probe.keying=both")
    assert both["usage/probe/calls_cached"] == first["usage/probe/calls_made"]
    assert both["usage/probe/calls_made"] == first["usage/probe/calls_made"]  # the reverse ones
    scores = _rows(small_demo, "SELECT probe_run, value, score FROM scores ORDER BY 1, 2")
    by_run: dict[str, list[float]] = {}
    for run, _, score in scores:
        by_run.setdefault(run, []).append(score)
    assert len(by_run) == 2 and len(set(map(tuple, by_run.values()))) == 1  # same forward score


@pytest.mark.parametrize(("overrides", "message"), [
    (["probe.answer_order=sideways"], "probe.answer_order='sideways' is not allowed"),
    (["probe.keying=both", "prompts.reverse=''"], "probe.keying=both needs a reverse-keyed"),
    (["probe.answer_order=no_first", "prompts.decision='Do you like it?'"],
     "prompts.decision of prompts=paper names none"),
    (["probe.image=noise"], "probe.image='noise' is not allowed; use one of screenshot, blank"),
    (["model.acquiescence=150"], "model.acquiescence=150.0 must be points"),
])
def test_bad_axis_settings_stop_before_any_work(overrides, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", "\\(").replace(")", "\\)")):
        compose(overrides)


def test_the_plan_counts_every_variant_and_a_why_after_forward_decisions_only(small_demo, tmp_path):
    plan = _probe(small_demo, tmp_path / "out", "probe.plan=true", "probe.ask_why=true",
                  "probe.keying=both", "probe.answer_order=counterbalanced")  # fmt: skip
    decisions = plan["usage/probe/plan/decision/calls"]
    assert decisions > 0 and plan["usage/probe/plan/why/calls"] == decisions / 2
    assert _rows(small_demo, "SELECT count(*) FROM responses") == [(0,)]  # nothing was called
