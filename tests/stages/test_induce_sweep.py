"""The design card's sweep, offline: ``python run.py -m model=<respondent>,<fake-server model>
strategy=simple,isq`` runs the probe and the role-play in each of its four jobs, and the two
strategy jobs of a model share the probe's cached answers. Read back through MLflow's client."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fakes.openai_server import FakeOpenAIServer, reply, request_images, request_texts


def answers_every_question(body, _i):
    """The probe's yes/no and why, the Simple JSON and the ISQ questionnaire, by image (the
    strategies' formats are told apart by their reply instructions)."""
    images = request_images(body)
    h = hashlib.sha256(images[0]).digest() if images else b"\0" * 4
    text = " ".join(request_texts(body, ("user",)))
    if "questionnaire" in text:
        names = ("visual_appeal", "curiosity_stimulation", "emotional_engagement",
                 "value_expectation")
        scores = {k: 1 + h[i] % 10 for i, k in enumerate(names)}
        return reply(json.dumps({**scores, "preference_alignment": h[0] % 2,
                                 "action_decision": h[1] % 2}))
    if '"decision"' in text:
        return reply(json.dumps({"decision": "yes" if h[0] % 2 else "no", "reason": "r",
                                 "trait_num": 1}))
    if "Why" in text:
        return reply("Because it looks nice.")
    return reply("Yes." if h[0] % 2 else "No.")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("card")
    ws = tmp / "ws"
    with FakeOpenAIServer(answers_every_question) as server:
        # the fake server as one more model option, in a config dir Hydra adds to its search path
        (tmp / "conf" / "model").mkdir(parents=True)
        (tmp / "conf" / "model" / "fake_server.yaml").write_text(
            "defaults:\n  - /schema/model@_here_: api_schema\n  - _self_\n"
            "name: fake_server\nlabel: fake server\nbackend: litellm\n"
            f"model: openai/fake-vlm\napi_base: {server.base_url}\n"
            "api_key_env: OPENAI_COMPATIBLE_API_KEY\n"
        )
        res = subprocess.run(
            [sys.executable, "run.py", "-cd", str(tmp / "conf"), "-m",
             "model=respondent,fake_server", "strategy=simple,isq", "corpus.n=40", "retrieve.k=1",
             "induce.videos=6", "induce.window=3", "induce.n_boot=50", "probe.n_boot=50",
             "progress=false", f"paths.workspace={ws}", f"hydra.sweep.dir={tmp}/s"],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                 "OPENAI_COMPATIBLE_API_KEY": "sk-test"},
        )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return ws


def test_four_jobs_each_probe_and_induce_and_share_the_probe_answers(sweep: Path) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{sweep / 'mlflow.db'}")
    exp = client.get_experiment_by_name("valuespectrum")
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])
            if r.data.tags.get("valuespectrum.kind") != "sweep"}
    assert len(runs) == 4, sorted(runs)
    for model in ("respondent", "fake_server"):
        simple = runs[f"model={model},strategy=simple"].data.metrics
        isq = runs[f"model={model},strategy=isq"].data.metrics
        assert simple["usage/probe/calls_made"] > 0
        assert isq["usage/probe/calls_made"] == 0  # the probe's answers came from the cache
        assert isq["usage/probe/calls_cached"] == simple["usage/probe/calls_made"]
        for m in (simple, isq):
            assert m["usage/induce/steps_asked"] == 12 * 2 * 6
            assert {"induce/net_effect", "induce/net_effect_ci_low", "induce/I_avg/adaptive",
                    "induce/I_avg/control", "induce/amplification/adaptive"} <= set(m)
    run = runs["model=fake_server,strategy=isq"]
    files = {a.path for a in client.list_artifacts(run.info.run_id, "induce")}
    assert {"induce/yes_rate.png", "induce/amplification.png", "induce/i_avg.png",
            "induce/impressions.csv", "induce/sessions.csv"} <= files
