"""Every study of experiments/ runs offline end to end, as its README says: the study's entry
point (experiments/run.py) runs its offline multirun and writes its report, whose page holds the
sections the study is about. One small demo workspace serves all studies (corpus.n=150 instead
of 600, to keep the suite short; the studies' configs are otherwise run as shipped)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.fakes.chromium import headless_chromium

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["corpus.n=150", "progress=false"]
# study -> the report sections its offline variant must fill (besides runs and overview)
SECTIONS = {
    "intrinsic_preferences": {"profiles", "structure", "known_truth"},
    "roleplay_induction": {"roleplay"},
    "modality_ablation": {"profiles", "modality", "known_truth"},
    "isq_threshold_ablation": {"roleplay"},
    "prompt_robustness": {"profiles", "robustness", "structure", "known_truth"},
}


def _study(study: str, out: Path, workspace: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [sys.executable, "experiments/run.py", study, "--out", str(out), "--",
               f"paths.workspace={workspace}", *SMALL]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("experiments") / "ws"


@pytest.fixture(scope="module")
def reports(workspace, tmp_path_factory) -> dict[str, Path]:
    """Each study's multirun folder, run once for the module (in the order of SECTIONS, so the
    first builds the shared corpus and indexes)."""
    base = tmp_path_factory.mktemp("studies")
    folders = {}
    for study in SECTIONS:
        done = _study(study, base / study, workspace)
        assert done.returncode == 0, f"{study}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        assert f"report: {base / study / 'report' / 'report.html'}" in done.stdout
        folders[study] = base / study
    return folders


@pytest.mark.parametrize("study", sorted(SECTIONS))
def test_the_offline_variant_writes_a_report_with_its_sections(reports, study) -> None:
    folder = reports[study]
    page = (folder / "report" / "report.html").read_text()
    shown = set(re.findall(r'<section id="([^"]+)"', page))
    assert {"runs", "overview", *SECTIONS[study]} <= shown, shown
    assert "error:" not in page.lower().split("<body", 1)[1][:2000]  # no failed section on top
    assert not (folder / "report" / "errors.txt").exists()
    jobs = pd.read_csv(folder / "report" / "tables" / "runs.csv")
    ran = jobs[jobs["source"] == "run"]  # intrinsic_preferences adds the paper's table (--paper)
    assert len(ran) == len([p for p in folder.iterdir() if (p / "run.json").is_file()]) >= 2
    if study == "intrinsic_preferences":
        assert (jobs["source"] == "table").sum() == 8  # the paper's eight published rows
    assert "SIMULATED" in page  # every study's offline variant is the simulated respondent


def test_each_study_readme_gives_its_commands() -> None:
    for study in SECTIONS:
        readme = (ROOT / "experiments" / study / "README.md").read_text()
        assert f"python experiments/run.py {study}" in readme
        assert f"experiment={study}_demo" in readme
        assert "**Expected cost" in readme


def test_prompt_robustness_measures_the_planted_effects(reports) -> None:
    """The demo respondent adds 5 points towards the option named first and 10 to every yes,
    so the order effect is 2 x 5 and the acquiescence index 2 x 10 (a little less where a
    yes-rate reaches 100%), give or take each wording's own shifts (a wording's forward and
    reverse questions are shifted apart). Over the six wordings the mean of each is clearly
    positive and within 4 standard errors of what was planted (a t statistic with 5 degrees of
    freedom; 4 is beyond its 99% point)."""
    within = pd.read_csv(reports["prompt_robustness"] / "report" / "tables"
                         / "robustness_within_run.csv")
    overall = within[within["value"] == "overall"]
    for effect, planted in (("order_effect", 10.0), ("acquiescence", 20.0)):
        estimates = overall.loc[overall["effect"] == effect, "estimate"]
        assert len(estimates) == 6, overall  # one per wording
        se = estimates.std(ddof=1) / len(estimates) ** 0.5
        assert abs(estimates.mean() - planted) < 4 * se, (effect, list(estimates))
        assert estimates.mean() - 3 * se > 0, (effect, list(estimates))


@pytest.mark.browser
def test_the_prompt_robustness_report_opens_offline_in_chromium(reports) -> None:
    """The done-when check: the page from disk, every figure loads, every table has the rows of
    its CSV, the runs table one row per wording."""
    folder = reports["prompt_robustness"] / "report"
    with headless_chromium(1100, 900) as driver:
        driver.get((folder / "report.html").as_uri())
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        images = driver.execute_script(
            "return [...document.images].map(i => [i.complete, i.naturalWidth])")
        tables = driver.execute_script(
            "return [...document.querySelectorAll('table')].map(t => "
            "[t.querySelector('caption .files').textContent, t.tBodies[0].rows.length])")
    figures = list((folder / "figures").glob("*.png"))
    assert len(images) == len(figures) and all(done and w > 0 for done, w in images), images
    shown = {files.strip("()"): rows for files, rows in tables}
    assert sorted(shown) == sorted(p.relative_to(folder).as_posix()
                                   for p in (folder / "tables").glob("*.csv"))  # fmt: skip
    for name, rows in shown.items():
        assert rows == len(pd.read_csv(folder / name)), name
    assert shown["tables/runs.csv"] == 6  # paper + five paraphrases
