"""Command line entry: compose with Hydra, validate into a typed ``Config``, hand to the runner.

No logic lives here; nothing below this module sees a DictConfig. Known failures end in one
line on stderr: exit 2 for a mistake in the command or config, 3 for too many failed calls,
4 for a probe over its budget (probe.max_cost_usd), 1 for a report with a failed section (the page
is written and shows it), 130 for Ctrl-C.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from valuespectrum.config import CONF_DIR, Config, ConfigError, load_config, register_schemas
from valuespectrum.config.overrides import check_overrides, quote_numeric_options
from valuespectrum.models.calls import ErrorRateExceeded
from valuespectrum.probe.costplan import BudgetExceeded
from valuespectrum.report.errors import ReportIncomplete
from valuespectrum.retrieval.embedding import WeightsUnavailableError
from valuespectrum.tracking_backend import TrackingUnavailableError

log = logging.getLogger("valuespectrum")

# Hydra composes against these schemas (run.py and compose() alike). Registered here rather than
# on importing valuespectrum.config, so code that only reads configs never imports Hydra.
register_schemas()


def main() -> None:
    """``python run.py``: command-line mistakes in one line, then the Hydra job; Ctrl-C too."""
    problem = check_overrides(sys.argv[1:], Path(CONF_DIR))
    if problem:
        _fail(problem, 2)
    sys.argv[1:] = quote_numeric_options(sys.argv[1:], Path(CONF_DIR))  # threshold=50,60,70
    try:
        job()
    except KeyboardInterrupt:  # a second Ctrl-C while the job was already winding down
        print("interrupted; run the same command again to resume", file=sys.stderr)
        sys.exit(130)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def job(raw: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from valuespectrum import runner

    hc = HydraConfig.get()
    cfg: Config | None = None
    try:
        cfg = load_config(raw)
        runner.run(
            cfg,
            output_dir=Path(hc.runtime.output_dir),
            # The study's groups; the schema nodes the model files extend are not a choice.
            choices={
                k: str(v) for k, v in hc.runtime.choices.items()
                if v is not None and not k.startswith("schema/")
            },
            **_job_identity(hc, multirun=hc.mode == RunMode.MULTIRUN),
        )
    except (
        ConfigError, FileNotFoundError, NotADirectoryError, PermissionError, TimeoutError
    ) as exc:
        _fail(str(exc), 2)
    except (WeightsUnavailableError, TrackingUnavailableError) as exc:
        _fail(str(exc), 2)
    except ErrorRateExceeded as exc:
        _fail(str(exc), 3)
    except BudgetExceeded as exc:
        _fail(str(exc), 4)
    except ReportIncomplete as exc:  # the page is written; a section failed
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        # Every stage writes as it goes (content-hash ids, insert-if-absent, the call cache), so
        # what finished is kept and a re-run picks up the rest.
        where = cfg.paths.workspace_path() if cfg else "the workspace"
        print(
            f"interrupted: finished work is saved in {where}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        sys.exit(130)


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def _job_identity(hc, *, multirun: bool) -> dict:
    """What names this job in MLflow: its task overrides, and in a multirun the sweep folder
    (which finds the parent run) and the swept keys its ``SweepCallback`` recorded there."""
    from valuespectrum.sweep import swept_keys

    overrides = [str(o) for o in hc.overrides.task]
    if not multirun:
        return {"overrides": overrides, "sweep_key": None, "swept": None}
    sweep_dir = Path(hc.sweep.dir).resolve()
    return {"overrides": overrides, "sweep_key": str(sweep_dir), "swept": swept_keys(sweep_dir)}


def compose(overrides: list[str] | None = None) -> Config:
    """Compose and validate a config exactly as ``python run.py OVERRIDES`` would, from Python
    (notebooks, benchmarks, tests)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        raw = hydra_compose("config", overrides=list(overrides or []))
    return load_config(raw)


if __name__ == "__main__":
    main()
