"""Command line entry: compose with Hydra, validate into a typed ``Config``, hand to the runner.

No logic lives here; nothing below this module sees a DictConfig.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from valuespectrum.config import CONF_DIR, Config, ConfigError, load_config
from valuespectrum.models.calls import ErrorRateExceeded
from valuespectrum.retrieval.embedding import WeightsUnavailableError

log = logging.getLogger("valuespectrum")


# An absolute path: Hydra would otherwise look for a Python module named "conf".
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
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
            sweep_key=str(Path(hc.sweep.dir).resolve()) if hc.mode == RunMode.MULTIRUN else None,
            overrides=list(hc.overrides.task),
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
