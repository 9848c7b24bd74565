"""``python -m valuespectrum.feed``: serves an indexed workspace, prints its URL, stops on
Ctrl-C; a workspace that is not indexed is said in one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

from tests.conftest import ROOT
from tests.feed.conftest import N


def _feed(*args: str) -> subprocess.Popen:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.Popen([sys.executable, "-m", "valuespectrum.feed", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serves_the_workspace_and_stops_on_ctrl_c(demo) -> None:
    _, ws, *_ = demo
    proc = _feed("--workspace", str(ws), "--recommender", "random")
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        assert f"{N} items, recommender=random" in line
        url = match.group(1)
        body = json.dumps({"session_id": "cli", "seed": 0}).encode()
        req = urllib.request.Request(f"{url}/api/sessions", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            assert res.status == 201
        with urllib.request.urlopen(f"{url}/api/sessions/cli/next", timeout=10) as res:
            assert json.loads(res.read())["position"] == 0
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == "stopped"


def test_a_workspace_not_collected_or_indexed_is_said_in_one_line(tmp_path, demo) -> None:
    for workspace, said in ((tmp_path / "empty", "no workspace at"),
                            (demo[1], "no image index at")):
        if workspace == demo[1]:
            for path in (workspace / "index").glob("image-*.usearch"):
                path.unlink()
        proc = _feed("--workspace", str(workspace))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and said in err
        assert "stages=[collect,index]" in err
