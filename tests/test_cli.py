"""Command-line mistakes Hydra would report in many lines (or with advice the schema then
refuses) are stopped in one line naming the fix; valid command lines pass untouched."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import CONF_DIR, ROOT
from valuespectrum.config.overrides import check_overrides

MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stages=probe"], "stages must be a list: stages=[probe]"),
        (["stages=probe,index"], "stages must be a list: stages=[probe,index]"),
        (["model=nope"],
         f"model=nope is not an option of group model; choose one of: {', '.join(MODELS)}"),
        (["-m", "model=gpt4o,nope"], "model=nope is not an option of group model"),
        (["+experiment=paper"], "experiment=paper is not an option of group experiment"),
        (["foo=1"], "unknown key foo; see python run.py --cfg job"),
        (["+foo=1"], "unknown key foo; see python run.py --cfg job"),
        (["probe.concurency=4"],
         "unknown key probe.concurency (did you mean probe.concurrency?); see python run.py"),
        (["retrieve.k.x=4"], "unknown key retrieve.k.x"),
        (["retrieve.k=[1"], "cannot parse retrieve.k=[1: "),
    ],
)
def test_mistakes_get_one_line_with_the_fix(args: list[str], message: str) -> None:
    problem = check_overrides(args, CONF_DIR)
    assert problem is not None and problem.startswith(message), problem
    assert "\n" not in problem


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--cfg", "job"],
        ["-m", "model=gpt4o,claude", "strategy=simple,isq", "stages=[collect,index,retrieve]"],
        ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "model=glob(*)"],
        ["-m", "retrieve.k=range(2,4)", "probe.samples=1,2"],
        ["experiment=paper_preference", "model=gpt4o", "corpus=folder", "corpus.path=/data/shots"],
        ["stages=[probe]", "model.generation.temperature=0.5", "model.profile.power=50"],
        ["+model.revision=abc", "prompts.decision='Do you like it? (Yes or No)'"],
        ["value_keywords.values.power.keywords=[money,status]", "embedder.pretrained=null"],
        ["paths.workspace=/tmp/ws", "hydra.run.dir=/tmp/out", "tracking.uri=http://h:5000"],
        ["--config-name", "other", "whatever=1"],  # another config: Hydra alone judges
    ],
)
def test_valid_command_lines_pass(args: list[str]) -> None:
    assert check_overrides(args, CONF_DIR) is None


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def test_run_py_prints_one_line_and_exits_2(tmp_path) -> None:
    for args, line in [
        (["model=nope", "--cfg", "job"], "error: model=nope is not an option of group model"),
        (["stages=probe", f"paths.workspace={tmp_path}/ws"],
         "error: stages must be a list: stages=[probe]"),
    ]:
        res = _run(*args)
        assert res.returncode == 2, res.stderr
        assert res.stderr.count("\n") == 1 and res.stderr.startswith(line), res.stderr
        assert res.stdout == ""
    assert not (tmp_path / "ws").exists()
