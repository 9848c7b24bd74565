"""``python -m valuespectrum.report``: a report across runs, without a Hydra job.

The same function as ``stages=[report]`` (report.command.make_report), configured from the
defaults of conf/config.yaml plus these options; it prints where the HTML landed and exits 1
when a section failed (the page shows which), 2 for a selection it cannot read.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m valuespectrum.report", description=__doc__)
    p.add_argument("--multirun", help="a Hydra multirun folder (data/multirun/<date>/<time>)")
    p.add_argument("--experiment", help="an MLflow experiment name")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="only runs with this MLflow tag (repeatable)")
    p.add_argument("--run-id", action="append", default=[], help="an MLflow run id (repeatable)")
    p.add_argument("--table", action="append", default=[], metavar="CSV",
                   help="a published table: model column and the ten values, %% yes")
    p.add_argument("--paper", action="store_true", help="add the paper's published table")
    p.add_argument("--out", help="the report folder (default: <multirun>/report or "
                   "data/reports/<date>/<time>)")
    p.add_argument("--workspace", help="the workspace the runs wrote to (tables, mlflow.db)")
    p.add_argument("--no-tracking", action="store_true", help="log the report to no MLflow run")
    p.add_argument("overrides", nargs="*", help="config overrides, e.g. plots.formats=[png,pdf]")
    return p.parse_args(argv)


def overrides_of(args: argparse.Namespace) -> list[str]:
    """The config overrides these options stand for."""
    out = list(args.overrides)
    for key, value in (("multirun", args.multirun), ("experiment", args.experiment),
                       ("out", args.out)):  # fmt: skip
        if value:
            out.append(f"report.{key}={_quoted(value)}")
    if args.run_id:
        out.append(f"report.run_ids=[{','.join(map(_quoted, args.run_id))}]")
    if args.table:
        tables = ",".join(_quoted(str(Path(t).resolve())) for t in args.table)
        out.append(f"report.tables=[{tables}]")
    if args.paper:
        out.append("report.paper=true")
    if args.workspace:
        ws = _quoted(str(Path(args.workspace).resolve()))
        out += [f"paths.workspace={ws}", f"report.workspace={ws}"]
    if args.no_tracking:
        out.append("tracking.enabled=false")
    return out


def tags_of(args: argparse.Namespace) -> dict[str, str]:
    """``--tag KEY=VALUE`` as a dict (set on the config after composing: MLflow tag keys hold
    dots, which Hydra's override grammar would read as nesting)."""
    tags = {}
    for tag in args.tag:
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --tag {tag}: give KEY=VALUE, e.g. --tag choice.model=gpt4o")
        tags[key] = value
    return tags


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("valuespectrum").setLevel(logging.INFO)
    args = parse(sys.argv[1:] if argv is None else argv)
    from valuespectrum.cli import compose
    from valuespectrum.config import ConfigError
    from valuespectrum.report.command import default_out, make_report
    from valuespectrum.tracking_backend import TrackingUnavailableError

    try:
        cfg = compose(overrides_of(args))
        cfg.report.tags.update(tags_of(args))
        result = make_report(cfg, default_out(cfg), own_run=True)
    except (ConfigError, FileNotFoundError, TimeoutError, TrackingUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {result.html}")
    if result.errors:
        print(f"error: {len(result.errors)} section(s) failed (first: {result.errors[0]}); the "
              f"page shows them, and {result.folder / 'errors.txt'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
