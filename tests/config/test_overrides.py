"""Numeric group options (threshold=50,60,70) reach Hydra as option names, not integers."""

from __future__ import annotations

from tests.conftest import CONF_DIR, compose_raw
from valuespectrum.config import load_config
from valuespectrum.config.overrides import quote_numeric_options


def test_numeric_threshold_options_are_quoted_and_everything_else_is_kept() -> None:
    argv = ["-m", "threshold=50,60,paper", "threshold=70", "strategy=isq", "retrieve.k=3",
            "seed=4", "--cfg", "job", "threshold.isq_percent=55"]  # fmt: skip
    assert quote_numeric_options(argv, CONF_DIR) == [
        "-m", "threshold='50','60',paper", "threshold='70'", "strategy=isq", "retrieve.k=3",
        "seed=4", "--cfg", "job", "threshold.isq_percent=55",
    ]


def test_quoted_threshold_options_compose() -> None:
    (override,) = quote_numeric_options(["threshold=70"], CONF_DIR)
    cfg = load_config(compose_raw([override]))
    assert cfg.threshold.name == "70" and cfg.threshold.isq_percent == 70
    assert load_config(compose_raw()).threshold.isq_percent == 60  # paper, the default
