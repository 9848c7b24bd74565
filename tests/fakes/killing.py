"""Start a job in a subprocess and SIGKILL it mid-way: the kill/resume tests' one helper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from tests.conftest import ROOT


def kill_after(script: str, args: Sequence[str], server, *, requests: int) -> None:
    """Run ``python -c script *args`` and SIGKILL it once ``server`` has seen ``requests``
    calls; the job must still be running then (its stderr tail is shown if it ended)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    try:
        deadline = time.monotonic() + 120
        while len(server.requests) < requests and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
