"""Which stages read which part of the config, so an override nothing will read is said aloud.

``python run.py stages=[collect,index,retrieve] strategy=isq`` would otherwise run a job identical
to ``strategy=simple`` and record it as a different one. The runner's pre-flight warns, in one
line per override, naming the stages that do read it.
"""

from __future__ import annotations

from collections.abc import Iterable

# Top-level key or group -> the stages that read it (through shared steps too: probe recomputes
# a missing retrieval, so it reads the embedder, keywords and retrieve settings; induce labels
# its feed's items by the values whose retrieval lists hold them). Keys of the
# run itself (stages, paths, tracking, progress, experiment) are read whatever the stages.
READ_BY: dict[str, tuple[str, ...]] = {
    "corpus": ("collect",),
    "embedder": ("index", "retrieve", "probe", "induce"),
    "value_keywords": ("retrieve", "probe", "induce"),
    "retrieve": ("retrieve", "probe", "induce"),
    "model": ("probe", "induce"),
    "prompts": ("probe",),
    "probe": ("probe",),
    "scoring": ("probe", "report"),
    "parsing": ("probe",),
    "modality": ("probe",),
    "describer": ("probe",),
    "describer_overrides": ("probe",),
    "plots": ("probe", "report", "induce"),
    "seed": ("probe", "induce"),
    "platform": ("induce",),
    "recommender": ("induce",),
    "persona": ("induce",),
    "strategy": ("induce",),
    "threshold": ("induce",),
    "induce": ("induce",),
    "agent": ("induce",),
    "report": ("report",),
}
READ_BY_RUN: frozenset[str] = frozenset(
    {"stages", "paths", "tracking", "progress", "experiment", "hydra"}
)


def override_key(override: str) -> str:
    """The top-level key or group an override sets: ``+model.device=cuda`` -> ``model``."""
    key = override.lstrip("+~").split("=", 1)[0]
    return key.split("/", 1)[0].split(".", 1)[0].split("@", 1)[0]


def unread_overrides(
    overrides: Iterable[str], stages: list[str], built: Iterable[str]
) -> list[str]:
    """One warning line per override that none of ``stages`` reads."""
    built = set(built)
    lines = []
    for override in overrides:
        key = override_key(override)
        readers = READ_BY.get(key)
        if key in READ_BY_RUN or readers is None or set(readers) & set(stages):
            continue
        named = " or ".join(r if r in built else f"{r} (not built yet)" for r in readers)
        lines.append(
            f"{override.lstrip('+~')} is not read by the selected stages "
            f"({', '.join(stages)}); it is read by {named}"
        )
    return lines
