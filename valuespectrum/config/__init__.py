"""Typed run configuration (see :mod:`valuespectrum.config.schema`)."""

from valuespectrum.config.schema import *  # noqa: F403
from valuespectrum.config.schema import STAGES, Config, ConfigError, load_config  # noqa: F401
