"""The instrument's known-truth check: a simulated respondent that sees each demo image's theme
knows the score each value should get; every recovered score must hold it within its CI.

The respondent says yes with p = profile[theme] / 100 when it answers at all, so the score a
value should get is fixed by the images retrieval gave it (``scoring.expected_scores``), not by
the true profile alone: a test against that expectation checks prompting, parsing and scoring,
whatever retrieval did. Ten 95% intervals miss now and then by chance, so the test allows
``MAX_MISSES``: with independent values at 95% coverage, P(more than 2 of 10 miss) = 1.2%;
at the 93% the within-keyword bootstrap covers at k=5, 3.5%. Seeds are fixed, so the outcome
is the same on every run; the bound documents that a pass is not luck tuned to one seed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.stages.conftest import SMALL_DEMO
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.values import VALUES

BASE = [*SMALL_DEMO, "model.perceive=oracle"]
MAX_MISSES = 2
# The respondent's reply mix (SimulatedRespondent defaults): refusal 2%, unclear 2%, no image 1%.
ANSWERING, COUNTED = 0.95, 0.99


def _probe(ws: Path, out: Path, *extra: str) -> dict[str, float]:
    cfg = compose([f"paths.workspace={ws}", *BASE, "stages=[probe]", "probe.ask_why=false",
                   *extra])
    return runner.run(cfg, output_dir=out)


def _expected_from_the_corpus(ws: Path, profile: dict[str, float]) -> dict[str, float]:
    """Each value's expected score from the answered images' themes, computed apart from the
    stage: the respondent's p(yes) is its profile at the image's known theme."""
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT a.value, s.theme FROM answers a JOIN screenshots s ON s.id = a.screenshot_id "
            "WHERE a.outcome <> 'error' AND a.probe_run = (SELECT probe_run FROM probe_runs "
            "ORDER BY created_at DESC LIMIT 1)"
        ).fetchall()
    yes, counted = defaultdict(float), defaultdict(float)
    for value, theme in rows:
        yes[value] += ANSWERING * profile[theme] / 100
        counted[value] += COUNTED
    return {v: 100 * yes[v] / counted[v] for v in yes}


def _misses(metrics: dict[str, float], expected: dict[str, float]) -> list[str]:
    return [
        v for v in VALUES
        if not metrics[f"probe/score_ci_low/{v}"] <= expected[v]
        <= metrics[f"probe/score_ci_high/{v}"]
    ]


def test_every_recovered_score_lies_within_its_ci_of_the_expected_one(
    small_demo, tmp_path, capsys
):
    metrics = _probe(small_demo, tmp_path / "out")
    profile = compose(["model=respondent"]).model.profile
    expected = _expected_from_the_corpus(small_demo, profile)
    for value in VALUES:  # the stage's expectation is the one computed here, from the corpus
        assert metrics[f"probe/score_expected/{value}"] == pytest.approx(expected[value], abs=0.01)
    misses = _misses(metrics, expected)
    assert len(misses) <= MAX_MISSES, misses
    assert metrics["probe/summary/expected_in_ci"] == 10 - len(misses)
    printed = capsys.readouterr().out
    assert f"inside the 95% CI for {10 - len(misses)} of 10 values" in printed
    assert "mean absolute error, recovered vs true profile" in printed
    assert "perception: oracle" in printed
    # the respondent's no_image replies were counted, never scored
    assert metrics["usage/probe/n_no_image"] > 0
    assert "replies that never saw the image" in printed


def test_the_check_fails_for_a_parser_that_misreads(small_demo, tmp_path):
    # The paper's rule ("yes" anywhere in the reply) reads "I like it", "Sí" and "是的" as no:
    # the same replies, so the same expectation, now far outside most intervals.
    metrics = _probe(small_demo, tmp_path / "out", "parsing.mode=prototype")
    expected = _expected_from_the_corpus(small_demo, compose(["model=respondent"]).model.profile)
    assert len(_misses(metrics, expected)) > 5
    assert metrics["probe/summary/prototype_agreement"] < 0.8
