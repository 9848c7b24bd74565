"""Run one study of experiments/ and write its cross-run report: the entry point of each study.

    python experiments/run.py prompt_robustness            # the offline variant (no key, no GPU)
    python experiments/run.py prompt_robustness --real     # the study's real multirun (keys!)
    python experiments/run.py intrinsic_preferences --real -- model=gpt4o,claude corpus=folder \
        corpus.path=~/screenshots                         # extra overrides after --

The multirun goes to data/experiments/<study>/<date>_<time>/ (one folder per job, as Hydra
writes them) and the report to its report/ folder (report.html, figures/, tables/), logged to
MLflow like any report. Each study's README gives the same commands by hand.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# study -> (the offline variant's experiment, the real multirun's overrides, report options)
STUDIES: dict[str, tuple[str, list[str], list[str]]] = {
    "intrinsic_preferences": (
        "intrinsic_preferences_demo",
        ["experiment=paper_preference", "model=gpt4o,claude,gemini35_flash,qwen3vl"],
        ["--paper"],
    ),
    "roleplay_induction": (
        "roleplay_induction_demo",
        ["experiment=roleplay_demo", "model=gpt4o,claude", "strategy=simple,isq",
         "induce.videos=100", "induce.window=50", "recommender.cold_start=50"],
        [],
    ),
    "modality_ablation": (
        "modality_ablation_demo",
        ["experiment=paper_preference", "probe.ask_why=false", "modality=image,description",
         "describer=gpt4o,claude,gemini35_flash", "model=gpt4o,claude,gemini35_flash"],
        [],
    ),
    "isq_threshold_ablation": (
        "isq_threshold_ablation_demo",
        ["experiment=roleplay_demo", "model=gpt4o", "strategy=isq", "threshold=40,50,60,70,80",
         "induce.videos=100", "induce.window=50", "recommender.cold_start=50"],
        [],
    ),
    "prompt_robustness": (
        "prompt_robustness_demo",
        ["experiment=paper_preference", "model=gpt4o", "probe.ask_why=false",
         "prompts=paper,para_enjoy,para_watch,para_appeal,para_interest,para_taste",
         "probe.answer_order=counterbalanced", "probe.keying=both"],
        [],
    ),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", choices=sorted(STUDIES))
    ap.add_argument("--real", action="store_true", help="the study's real models (API keys)")
    ap.add_argument("--out", type=Path, help="the multirun folder (default data/experiments/...)")
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    args.overrides = argv[cut + 1:]  # extra Hydra overrides, after --
    offline, real, report = STUDIES[args.study]
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    folder = (args.out or ROOT / "data" / "experiments" / args.study / stamp).resolve()
    sweep = real if args.real else [f"experiment={offline}"]
    run = [sys.executable, "run.py", "-m", *sweep, *args.overrides, f"hydra.sweep.dir={folder}"]
    print("$", " ".join(run[1:]), flush=True)
    if subprocess.run(run, cwd=ROOT).returncode != 0:
        print(f"error: the multirun of {args.study} failed; its jobs' logs are under {folder}",
              file=sys.stderr)
        return 1
    # each job's run.json names its workspace, so the report finds the tables by itself
    command = [sys.executable, "-m", "valuespectrum.report", "--multirun", str(folder), *report]
    print("$", " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
