"""Typed run configuration: dataclass schemas (one per model backend), validation with the fix
in every message, and their registration in Hydra's ConfigStore (``register_schemas``, called by
``valuespectrum.cli`` before anything composes conf/)."""

from valuespectrum.config.errors import ConfigError
from valuespectrum.config.modality import MODALITIES, describer_model_config
from valuespectrum.config.models import (
    MODEL_SCHEMAS,
    ApiModelConfig,
    GenerationConfig,
    LocalModelConfig,
    ModelConfig,
    ModelConfigBase,
    SimulatedModelConfig,
)
from valuespectrum.config.parsing import ParsingConfig, judge_model_config
from valuespectrum.config.probe import ProbeConfig, PromptsConfig, ScoringConfig, prompt_preset
from valuespectrum.config.readers import READ_BY, READ_BY_RUN, unread_overrides
from valuespectrum.config.retrieval import (
    CorpusConfig,
    EmbedderConfig,
    RetrieveConfig,
    ValueEntry,
    ValueKeywordsConfig,
)
from valuespectrum.config.roleplay import (
    AgentConfig,
    InduceConfig,
    PersonaConfig,
    PersonaProfile,
    PlatformConfig,
    StrategyConfig,
    ThresholdConfig,
)
from valuespectrum.config.schema import STAGES, Config, PathsConfig, TrackingConfig, load_config
from valuespectrum.config.store import CONF_DIR, register_schemas

__all__ = [
    "CONF_DIR", "MODALITIES", "MODEL_SCHEMAS", "READ_BY", "READ_BY_RUN", "STAGES", "AgentConfig",
    "ApiModelConfig", "Config", "ConfigError", "CorpusConfig", "EmbedderConfig",
    "GenerationConfig", "InduceConfig", "LocalModelConfig", "ModelConfig", "ModelConfigBase",
    "ParsingConfig", "PathsConfig", "PersonaConfig", "PersonaProfile", "PlatformConfig",
    "ProbeConfig", "PromptsConfig", "RetrieveConfig", "ScoringConfig", "SimulatedModelConfig",
    "StrategyConfig", "ThresholdConfig", "TrackingConfig", "ValueEntry", "ValueKeywordsConfig",
    "describer_model_config", "judge_model_config", "load_config", "prompt_preset",
    "register_schemas", "unread_overrides",
]
