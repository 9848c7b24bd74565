"""What a researcher finds in MLflow after `python run.py -m retrieve.k=3,5`, read through MLflow's
client, its REST API and its web UI in headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fakes.chromium import headless_chromium
from valuespectrum.values import VALUES

SWEEP = (
    "-m", "retrieve.k=3,5", "stages=[collect,index,retrieve,probe]", "corpus.n=60",
    "progress=false",
)
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """The workspace of one two-job sweep of the offline demo."""
    tmp = tmp_path_factory.mktemp("sweep")
    ws = tmp / "ws"
    res = subprocess.run(
        [sys.executable, "run.py", *SWEEP, f"paths.workspace={ws}", f"hydra.sweep.dir={tmp}/s"],
        cwd=ROOT, capture_output=True, text=True, timeout=400, env=ENV,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return ws


def _runs(ws: Path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    exp = client.get_experiment_by_name("valuespectrum")
    runs = client.search_runs([exp.experiment_id])
    parent = next(r for r in runs if r.data.tags.get("valuespectrum.kind") == "sweep")
    children = {r.info.run_name: r for r in runs if r is not parent}
    return client, exp, parent, children


def test_sweep_jobs_are_named_by_their_swept_value_under_a_finished_parent(sweep) -> None:
    _, exp, parent, children = _runs(sweep)
    assert sorted(children) == ["retrieve.k=3", "retrieve.k=5"]
    assert {r.data.tags["mlflow.parentRunId"] for r in children.values()} == {parent.info.run_id}
    assert parent.data.params["sweep.retrieve.k"] == "3,5"
    assert parent.data.params["sweep.jobs"] == "2"
    assert "retrieve.k=3,5" in parent.data.params["sweep.overrides"]
    assert parent.data.tags["sweep.command"].startswith("python run.py -m retrieve.k=3,5")
    # The parent ends after its last job, not when the first one starts.
    assert parent.info.status == "FINISHED"
    assert all(r.info.status == "FINISHED" for r in children.values())
    assert parent.info.end_time >= max(r.info.end_time for r in children.values())
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    for run in (parent, *children.values()):
        tags = run.data.tags
        assert tags["mlflow.source.git.commit"] == tags["git.sha"] != "unknown"
        assert tags["mlflow.source.name"].endswith("run.py") and tags["mlflow.user"]
        assert tags["mlflow.source.type"] == "LOCAL"


def test_params_cover_the_stages_that_ran_and_stay_short(sweep) -> None:
    _, _, _, children = _runs(sweep)
    params = children["retrieve.k=3"].data.params
    assert params["retrieve.k"] == "3" and children["retrieve.k=5"].data.params["retrieve.k"] == "5"
    assert params["model.generation.max_tokens"] == "64"  # the respondent's; no "***"
    assert not {k.split(".")[0] for k in params} & {"persona", "strategy", "platform", "threshold"}
    assert params["value_keywords.values"] == "10 entries; see value_keywords.json"
    assert all(len(v) <= 250 and "\n" not in v for v in params.values())


def test_each_value_has_its_score_interval_and_n_apart_from_usage_and_timing(sweep) -> None:
    _, _, _, children = _runs(sweep)
    for k, run in ((3, children["retrieve.k=3"]), (5, children["retrieve.k=5"])):
        m = run.data.metrics
        for v in VALUES:
            low, score, high = (
                m[f"probe/{q}/{v}"] for q in ("score_ci_low", "score", "score_ci_high")
            )
            assert low <= score <= high and low < high
            assert m[f"probe/score_n/{v}"] <= 10 * k  # ten keywords, k images each
            assert f"probe/score_centred/{v}" in m
            assert score == float(f"{score:.4g}")  # four significant digits
        # every answer is counted, but those that never saw the image (no_image) are in no score
        n = sum(m[f"probe/score_n/{v}"] for v in VALUES)
        assert n + m["usage/probe/n_no_image"] + m["usage/probe/n_error"] == 100 * k
        assert m["usage/probe/calls_made"] + m["usage/probe/calls_cached"] > 0
        assert m["timing/probe/seconds"] > 0 and m["usage/retrieve/rows"] == 100 * k
        assert not [name for name in m if name.split("/")[0] not in
                    ("collect", "index", "retrieve", "probe", "usage", "timing")]


def test_tables_and_a_self_contained_summary_are_logged(sweep) -> None:
    client, _, _, children = _runs(sweep)
    run_id = children["retrieve.k=5"].info.run_id
    names = {a.path for a in client.list_artifacts(run_id, "probe")}
    assert {"probe/summary.html", "probe/scores_table.json"} <= names
    assert any(n.endswith(".csv") and "scores-" in n for n in names)
    retrieval = [a.path for a in client.list_artifacts(run_id, "retrieval")]
    assert any(n.endswith(".csv") for n in retrieval)
    page = Path(client.download_artifacts(run_id, "probe/summary.html")).read_text()
    assert "SIMULATED" in page and "Hedonism" in page and "src='http" not in page
    png = page.split("data:image/png;base64,", 1)[1].split("'", 1)[0]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    keywords = json.loads(
        Path(client.download_artifacts(run_id, "value_keywords.json")).read_text()
    )
    assert set(keywords) == set(VALUES) and all(e["keywords"] for e in keywords.values())


@pytest.mark.browser
def test_mlflow_ui_lists_the_sweep_runs(sweep, tmp_path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    _, exp, parent, children = _runs(sweep)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
         f"sqlite:///{sweep / 'mlflow.db'}", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(f"{base}/health", server)
        found = _post(f"{base}/api/2.0/mlflow/runs/search",
                      {"experiment_ids": [exp.experiment_id]})
        names = {r["info"]["run_name"] for r in found["runs"]}
        assert names == {*children, parent.info.run_name}
        with _chromium() as page:
            ml = "workflowType=machine_learning"  # the classic runs view, not GenAI traces
            _open(page, f"{base}/#/experiments/{exp.experiment_id}/runs?{ml}",
                  parent.info.run_name)
            for name, run in children.items():
                _open(page, f"{base}/#/experiments/{exp.experiment_id}/runs/"
                            f"{run.info.run_id}?{ml}", name)
            run_id = children["retrieve.k=3"].info.run_id
            _open(page, f"{base}/#/experiments/{exp.experiment_id}/runs/{run_id}/artifacts/"
                        f"probe/summary.html?{ml}", "probe/summary.html")
            # The artifact viewer shows the page in a sandboxed frame: table and radar inline.
            WebDriverWait(page, 60).until(lambda d: d.find_elements("tag name", "iframe"))
            page.switch_to.frame(page.find_element("tag name", "iframe"))
            WebDriverWait(page, 30).until(
                lambda d: "Self-Direction" in d.find_element("tag name", "body").text
            )
            width = page.execute_script("return document.images[0].naturalWidth")
            assert width > 100  # the radar chart decoded from the page itself
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow server exited before it was ready"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mlflow server not ready after {timeout_s}s")


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _chromium():
    """Headless Debian Chromium through selenium, quit on exit."""
    return headless_chromium(1400, 1000)


def _open(driver, url: str, expect: str, timeout_s: float = 60) -> None:
    """Load ``url`` and wait until the rendered page shows ``expect``."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, timeout_s).until(
        lambda d: expect in d.find_element("tag name", "body").text,
        message=f"{expect!r} never appeared on {url}",
    )
