"""What the probe stage makes of its answers: two-stage intervals recorded with their method,
the keyword table, the log-probability score, the headline numbers and the printed table."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import duckdb
import pytest

from tests.fakes.fault_plan import FaultPlan
from tests.fakes.openai_server import CANARY_KEY, FakeOpenAIServer
from valuespectrum import runner
from valuespectrum.cli import compose


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> tuple[Path, dict, str]:
    """A demo workspace probed once through litellm against the fake server, with logprobs."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_COMPATIBLE_API_KEY", CANARY_KEY)
    ws = tmp_path_factory.mktemp("scores") / "ws"
    base = [f"paths.workspace={ws}", "corpus.n=60", "retrieve.k=2", "progress=false",
            "tracking.enabled=false"]  # fmt: skip
    runner.run(compose([*base, "stages=[collect,index,retrieve]"]), output_dir=ws.parent / "a")
    with FakeOpenAIServer(FaultPlan(seed=1, p_yes=0.7)) as server:
        cfg = compose([
            *base, "stages=[probe]", "model=openai_compatible", "model.model=openai/fake-vlm",
            f"model.api_base={server.base_url}", "model.generation.logprobs=true",
            "probe.ask_why=false", "probe.n_boot=300", "scoring.n_perm=999",
        ])  # fmt: skip
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            metrics = runner.run(cfg, output_dir=ws.parent / "b")
    mp.undo()
    return ws, metrics, printed.getvalue()


def _db(ws: Path):
    return duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True)


def test_scores_record_their_interval_method_and_noise(probed) -> None:
    ws, _, _ = probed
    with _db(ws) as con:
        rows = con.execute(
            "SELECT DISTINCT ci_method, scoring::JSON->>'interval' FROM scores").fetchall()
        assert rows == [("two_stage", "two_stage")]
        bad = con.execute("SELECT count(*) FROM scores WHERE NOT (ci_low <= score AND "
                          "score <= ci_high) OR noise_se IS NULL").fetchone()[0]  # fmt: skip
        assert bad == 0


def test_keyword_table_has_one_row_per_keyword_of_the_score_set(probed) -> None:
    ws, _, _ = probed
    with _db(ws) as con:
        n_keywords = con.execute(
            "SELECT count(DISTINCT (value, keyword)) FROM answers").fetchone()[0]
        rows = con.execute(
            "SELECT count(*), count(DISTINCT k.scoring_key), sum(k.n) FROM keyword_scores k "
            "JOIN scores s USING (probe_run, scoring_key, value)").fetchone()
        answered = con.execute("SELECT count(*) FROM answers WHERE outcome != 'error'"
                               ).fetchone()[0]  # fmt: skip
    assert rows[0] == n_keywords * 1 and rows[1] == 1 and rows[2] == answered


def test_logprob_score_is_the_mean_p_yes_of_the_answers(probed) -> None:
    """The fake server gives "Yes" -0.05 / "No" -3.0 on a yes (and the mirror on a no), so each
    yes weighs 1/(1 + e^-2.95) and each no 1 - that."""
    ws, metrics, _ = probed
    q = 1 / (1 + math.exp(-2.95))
    with _db(ws) as con:
        for value, score, n_yes, n_no, n in con.execute(
            "SELECT value, score_logprob, n_yes, n_no, n_logprob FROM scores"
        ).fetchall():
            assert n == n_yes + n_no
            assert score == pytest.approx(100 * (n_yes * q + n_no * (1 - q)) / n)
            assert metrics[f"probe/score_logprob/{value}"] == pytest.approx(score, rel=1e-3)


def test_headlines_and_the_printed_table(probed) -> None:
    _, metrics, printed = probed
    for name in ("std_noise_corrected", "std_ci_low", "std_ci_high", "noise_std",
                 "homogeneity_p", "circumplex_fit", "circumplex_p"):  # fmt: skip
        assert f"probe/summary/{name}" in metrics
    assert "probe/summary/circumplex_r" not in metrics  # dropped from the headlines
    assert 0 <= metrics["probe/summary/homogeneity_p"] <= 1
    assert "95% CI: two-stage bootstrap (keywords, then images within keywords)" in printed
    assert "300 replicates" in printed
    assert "noise-corrected std" in printed and "homogeneity (one yes-rate" in printed
    assert "p(yes)" in printed and "keywords driving a value" in printed
    assert "circumplex r" not in printed
