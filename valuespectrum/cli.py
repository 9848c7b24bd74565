"""Command line entry: compose with Hydra, validate into a typed ``Config``, hand to the runner.

No logic lives here; nothing below this module sees a DictConfig.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from valuespectrum.config import Config, ConfigError, load_config
from valuespectrum.models.calls import ErrorRateExceeded
from valuespectrum.retrieval.embedding import WeightsUnavailableError

log = logging.getLogger("valuespectrum")


# An absolute path: Hydra would otherwise look for a Python module named "conf".
CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(raw: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from valuespectrum import runner

    hc = HydraConfig.get()
    try:
        cfg = load_config(raw)
        runner.run(
            cfg,
            output_dir=Path(hc.runtime.output_dir),
            choices={k: str(v) for k, v in hc.runtime.choices.items() if v is not None},
            **_job_identity(hc, multirun=hc.mode == RunMode.MULTIRUN),
        )
    except (ConfigError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except WeightsUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ErrorRateExceeded as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(3)


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

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        raw = hydra_compose("config", overrides=list(overrides or []))
    return load_config(raw)


if __name__ == "__main__":
    main()
