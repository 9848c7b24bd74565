"""How long the report of a 2 x 2 multirun takes, beside the time to read its tables.

Builds a 2 x 2 multirun of the offline demo (prompts x retrieve.k, probe only) in a temporary
workspace (or reuses ``--multirun DIR`` with ``--workspace DIR``), then times, each the median
of ``--repeat`` rounds:

* ``read``    selecting the jobs and reading their tables into ReportData (the floor);
* ``report``  the whole report: selection, reading, every section builder, figures in
  ``plots.formats``, CSVs and the HTML page (``make_report``, no tracking);
* ``command`` ``python -m valuespectrum.report --no-tracking`` as a user runs it, imports
  included (one round).

The target is ``report`` < 10 s. Run from the repo root:

    python -m benchmarks.report_bench [--repeat 3] [--multirun DIR --workspace DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["prompts=paper,prototype", "retrieve.k=1,2", "probe.ask_why=false", "corpus.n=100",
         "stages=[collect,index,retrieve,probe]", "progress=false"]  # fmt: skip
TARGET_S = 10.0


def build_multirun(folder: Path, workspace: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "run.py", "-m", *SWEEP, f"paths.workspace={workspace}",
                    f"hydra.sweep.dir={folder}"], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - t0


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--multirun", type=Path)
    p.add_argument("--workspace", type=Path)
    args = p.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from valuespectrum.cli import compose
    from valuespectrum.report.command import make_report
    from valuespectrum.report.data import report_data
    from valuespectrum.report.selection import Request, job_records

    with tempfile.TemporaryDirectory() as tmp:
        folder, workspace = args.multirun, args.workspace
        if folder is None:
            folder, workspace = Path(tmp) / "sweep", Path(tmp) / "ws"
            print(f"building the 2 x 2 multirun: {build_multirun(folder, workspace):.1f} s")
        cfg = compose([f"report.multirun={folder}", f"paths.workspace={workspace}",
                       "tracking.enabled=false"])  # fmt: skip
        out = Path(tmp) / "report"
        read = median_time(lambda: report_data(job_records(Request(multirun=folder))),
                           args.repeat)  # fmt: skip
        report = median_time(lambda: make_report(cfg, out), args.repeat)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "valuespectrum.report", "--multirun", str(folder),
                        "--out", str(Path(tmp) / "cmd"), "--no-tracking"], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        command = time.perf_counter() - t0
    print(f"{'read tables':>14} {read:7.2f} s")
    print(f"{'report':>14} {report:7.2f} s   report / read = {report / read:.1f}x   "
          f"target < {TARGET_S:.0f} s: {'met' if report < TARGET_S else 'MISSED'}")
    print(f"{'command':>14} {command:7.2f} s   (python -m valuespectrum.report, imports included)")


if __name__ == "__main__":
    main()
