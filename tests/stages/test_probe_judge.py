"""parsing.judge: a second model, through the real litellm client against a loopback server,
labels only what the rules leave invalid (plus a sample of the rest); its verdicts are stored
beside the rule's, cached like any call, and their agreement is reported."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.fakes.openai_server import (
    CANARY_KEY,
    FakeOpenAIServer,
    reply,
    request_images,
    request_texts,
)
from tests.stages.conftest import SMALL_DEMO
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.config import ConfigError
from valuespectrum.probe.judge import sampled

# Decision replies, chosen per image; what the rules read; what the judge says of each.
REPLIES = {
    "Yes.": ("yes", "yes"),
    "No.": ("no", "yes"),  # the judge disagrees here: agreement is measured, not assumed
    "Kinda vibing with it, ngl": ("invalid", "yes"),
    "Well...": ("invalid", "invalid"),
    "I can't see any image.": ("no_image", "no_image"),
}
SHARE = 0.5


def _decision(body, _index):
    digest = hashlib.sha256(request_images(body)[0]).digest()
    return reply(list(REPLIES)[digest[0] % len(REPLIES)])


def _quoted(body) -> str:
    return request_texts(body, ("user",))[-1].split("<reply>")[1].split("</reply>")[0]


def _judge(body, _index):
    return reply(REPLIES[_quoted(body)][1])


def _cfg(ws: Path, decide: FakeOpenAIServer, judge: FakeOpenAIServer):
    return compose([
        f"paths.workspace={ws}", *SMALL_DEMO, "stages=[probe]", "probe.ask_why=false",
        "model=openai_compatible", "model.model=openai/fake-vlm",
        f"model.api_base={decide.base_url}", "parsing.judge=openai_compatible",
        f"parsing.judge_overrides.api_base={judge.base_url}",
        "parsing.judge_overrides.model=openai/fake-judge", f"parsing.judge_sample={SHARE}",
    ])


def test_the_judge_labels_what_the_rules_leave_invalid(small_demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", CANARY_KEY)
    with FakeOpenAIServer(_decision) as decide, FakeOpenAIServer(_judge) as judge:
        metrics = runner.run(_cfg(small_demo, decide, judge), output_dir=tmp_path / "a")
        asked = judge.requests
        with duckdb.connect(str(small_demo / "valuespectrum.duckdb"), read_only=True) as con:
            rows = con.execute(
                "SELECT a.fingerprint, r.text, a.outcome, a.rule_outcome, a.judge_outcome, "
                "a.decided_by, j.kind FROM answers a JOIN responses r USING (fingerprint) "
                "LEFT JOIN responses j ON j.fingerprint = a.judge_fingerprint"
            ).fetchall()
        seen = (len(decide.requests), len(asked))
        again = runner.run(_cfg(small_demo, decide, judge), output_dir=tmp_path / "b")
        assert (len(decide.requests), len(judge.requests)) == seen  # the judge's calls cached
    assert all(not r.images() for r in asked)  # the judge reads text, never the image
    quoted = {_quoted(r.body) for r in asked}
    assert quoted == set(REPLIES)  # both invalid kinds, and a sample of the rule-decided ones
    judged = {fp for fp, text, *_ in rows if REPLIES[text][0] == "invalid" or sampled(fp, SHARE)}
    # The judge reads only the reply, so one call per distinct reply text answers every image.
    assert len(asked) == len({text for fp, text, *_ in rows if fp in judged}) == len(REPLIES)
    for fp, text, outcome, rule, judge_said, decided_by, kind in rows:
        assert rule == REPLIES[text][0]
        if fp in judged:
            assert (judge_said, kind) == (REPLIES[text][1], "judge")
        else:
            assert judge_said is None and kind is None
        took_judge = rule == "invalid" and judge_said not in (None, "error")
        assert outcome == (judge_said if took_judge else rule)
        assert decided_by == ("judge" if took_judge else "rules")
    sample = [(t, j) for fp, t, _, r, j, *_ in rows if r != "invalid" and j is not None]
    agree = sum(REPLIES[t][0] == j for t, j in sample) / len(sample)
    assert metrics["probe/summary/judge_agreement"] == pytest.approx(agree, abs=1e-3) and agree < 1
    assert metrics["usage/probe/judge_decided"] == sum(
        1 for *_, r, j, _d, _k in rows if r == "invalid" and j == "yes"
    )
    assert again["probe/score/power"] == metrics["probe/score/power"]
    assert "judge openai_compatible:" in capsys.readouterr().out


def test_a_judge_without_its_key_stops_before_any_work(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = compose([f"paths.workspace={tmp_path}/ws", "parsing.judge=gpt4o",
                   "tracking.enabled=false"])
    with pytest.raises(ConfigError, match=r"parsing\.judge=gpt4o: set OPENAI_API_KEY"):
        runner.run(cfg, output_dir=tmp_path / "out")
    assert not (tmp_path / "ws").exists()
