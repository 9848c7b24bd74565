"""probe with local models: the tiny random LLaVA through the transformers backend, and the
simulated respondent whose known profile the pipeline must recover."""

from __future__ import annotations

import duckdb

from tests.fakes.tiny_vlm import build_tiny_llava
from valuespectrum import runner
from valuespectrum.cli import compose


def test_tiny_llava_answers_through_the_transformers_backend(tmp_path) -> None:
    folder = build_tiny_llava(tmp_path / "tiny-llava")
    ws = tmp_path / "ws"
    cfg = compose([
        f"paths.workspace={ws}", "corpus.n=20", "retrieve.k=1", "progress=false",
        "tracking.enabled=false", "stages=[collect,index,retrieve,probe]", "model=smolvlm",
        f"model.model={folder}",
        "model.name=tiny_llava", "model.generation.max_tokens=4", "model.generation.logprobs=true",
        "probe.ask_why=false", "probe.image_max_side=64",
    ])
    metrics = runner.run(cfg, output_dir=tmp_path / "out")
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT count(*), count(yes_logprob), count(no_logprob) FROM responses").fetchone()
        outcomes = con.execute("SELECT DISTINCT outcome FROM answers").fetchall()
    assert rows[0] == rows[1] == rows[2] > 0  # every reply came with first-token yes/no logprobs
    # random weights babble (invalid), but nothing failed
    assert metrics["usage/probe/n_error"] == 0
    assert {o for (o,) in outcomes} <= {"yes", "no", "refusal", "invalid"}


def test_default_demo_recovers_the_simulated_profile(tmp_path, capsys) -> None:
    cfg = compose([f"paths.workspace={tmp_path}/ws", "progress=false", "tracking.enabled=false"])
    assert cfg.model.simulated
    assert cfg.stages == ["collect", "index", "retrieve", "probe", "induce"]
    metrics = runner.run(cfg, output_dir=tmp_path / "a")
    out = capsys.readouterr().out
    assert "SIMULATED respondent" in out and "Spearman rho" in out
    # The instrument recovers the ordering it was given (GPT-4o's published row).
    assert metrics["probe/summary/rho_true_profile"] > 0.4
    assert "net induction effect" in out and metrics["usage/induce/steps_asked"] == 12 * 2 * 100
    again = runner.run(cfg, output_dir=tmp_path / "b")
    assert again["usage/probe/calls_made"] == 0
    assert again["usage/induce/calls_made"] == 0
    assert again["induce/net_effect"] == metrics["induce/net_effect"]
    assert again["probe/summary/rho_true_profile"] == metrics["probe/summary/rho_true_profile"]
    radar = (tmp_path / "a" / "probe" / "radar.png").read_bytes()
    assert (tmp_path / "b" / "probe" / "radar.png").read_bytes() == radar  # reused as drawn
    # Another axis order draws the radar anew from the same answers (no new calls).
    circle = compose([f"paths.workspace={tmp_path}/ws", "progress=false",
                      "tracking.enabled=false", "plots.axis_order=circumplex"])  # fmt: skip
    redrawn = runner.run(circle, output_dir=tmp_path / "c")
    assert redrawn["usage/probe/calls_made"] == 0
    assert (tmp_path / "c" / "probe" / "radar.png").read_bytes() != radar
    assert (tmp_path / "c" / "probe" / "radar.svg").is_file()
