"""The wording is a Hydra group: presets by file, rewordings with their own version id."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import CONF_DIR, compose_raw
from valuespectrum.config import load_config, prompt_preset
from valuespectrum.probe.plan import probe_prompts

PRESETS = sorted(p.stem for p in (CONF_DIR / "prompts").glob("*.yaml"))
WATCHING = "Would you keep watching? (Yes or No)"


def _prompts(*overrides: str):
    return probe_prompts(load_config(compose_raw(list(overrides))).prompts)


def test_presets_have_distinct_versions_and_wording() -> None:
    assert {"paper", "prototype"} <= set(PRESETS)
    specs = [yaml.safe_load((CONF_DIR / "prompts" / f"{p}.yaml").read_text()) for p in PRESETS]
    assert [s["name"] for s in specs] == PRESETS
    assert len({s["version"] for s in specs}) == len(specs)
    assert len({(s["system"], s["decision"], s["why"]) for s in specs}) == len(specs)
    for name in PRESETS:
        assert _prompts(f"prompts={name}") == probe_prompts(prompt_preset(name))


def test_a_reworded_piece_gets_the_version_it_had_as_probe_text() -> None:
    reworded = _prompts(f"prompts.decision='{WATCHING}'")
    # the same version and fingerprint the old probe.text.decision override produced, so those
    # cache entries stay valid too
    assert reworded.version == "paper-v1+custom-f8c87ba4"
    assert reworded.fingerprint() == (
        "455901c22399eeab7d822857027175ae57b3d71699bd95b47f2a0f6dc2d65df7"
    )
    assert reworded.decision == WATCHING
    on_prototype = _prompts("prompts=prototype", f"prompts.decision='{WATCHING}'")
    assert on_prototype.version.startswith("prototype-v1+custom-")


def test_the_presets_own_wording_keeps_the_presets_version() -> None:
    paper = prompt_preset("paper")
    same = _prompts(f"prompts.why='{paper.why}'")
    assert same.version == "paper-v1"
    assert same == probe_prompts(paper)


def test_a_version_set_by_the_user_is_kept() -> None:
    named = _prompts("prompts.version=watching-v1", f"prompts.decision='{WATCHING}'")
    assert named.version == "watching-v1"


@pytest.mark.parametrize("piece", ["system", "why", "describe"])
def test_every_piece_can_be_reworded(piece: str) -> None:
    reworded = _prompts(f"prompts.{piece}=Reworded")
    assert getattr(reworded, piece) == "Reworded"
    assert reworded.version.startswith("paper-v1+custom-")
    assert reworded.fingerprint() != probe_prompts(prompt_preset("paper")).fingerprint()
