"""Personas: the shipped profiles span the ten values; none; Persona-Chat files in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import compose_raw
from valuespectrum.config import ConfigError, load_config
from valuespectrum.induce.personas import Persona, load_personas, read_persona_chat
from valuespectrum.values import VALUES

CONVAI2 = """\
1 your persona: i like to remodel homes.
2 your persona: i like to go hunting.
3 your persona: i like to shoot a bow.
4 your persona: my favorite holiday is halloween.
5 hi , how are you doing ? i am getting ready to do some cheetah chasing .\tyou must be very fast .
6 i am ! for my hobby i like to do canning or some whittling .\ti also remodel homes .
1 your persona: my mom is my best friend.
2 your persona: i have four sisters.
3 your persona: i believe that mermaids are real.
4 partner's persona: i love iced tea.
5 hello , how are you ?\ti am well , thanks .
1 your persona: i like to remodel homes.
2 your persona: i like to go hunting.
3 your persona: i like to shoot a bow.
4 your persona: my favorite holiday is halloween.
5 what do you do ?\ti hunt .
"""


def _personas(*overrides: str) -> list[Persona]:
    return load_personas(load_config(compose_raw(list(overrides))).persona)


def test_default_personas_are_persona_chat_style_and_span_the_ten_values() -> None:
    personas = _personas()
    assert len(personas) >= 10
    assert len({p.persona_id for p in personas}) == len(personas)
    for p in personas:
        assert 3 <= len(p.traits) <= 5, p.persona_id
        assert all(t == t.lower() and t.startswith(("i ", "my ")) for t in p.traits), p.traits
        assert p.favours and set(p.favours) <= set(VALUES)
    assert {v for p in personas for v in p.favours} == set(VALUES)
    fisher = next(p for p in personas if "i own a boat." in p.traits)  # the paper's example
    assert len(fisher.traits) == 5


def test_persona_none_is_one_persona_without_traits() -> None:
    (nobody,) = _personas("persona=none")
    assert nobody.is_none and nobody.traits == () and nobody.favours == ()


def test_convai2_files_with_and_without_line_numbers_give_the_same_profiles(
    tmp_path: Path,
) -> None:
    numbered = tmp_path / "train_self_original.txt"
    numbered.write_text(CONVAI2)
    bare = tmp_path / "bare.txt"
    bare.write_text("\n".join(line.split(" ", 1)[1] for line in CONVAI2.splitlines()))
    expected = [
        ("i like to remodel homes.", "i like to go hunting.", "i like to shoot a bow.",
         "my favorite holiday is halloween."),
        ("my mom is my best friend.", "i have four sisters.", "i believe that mermaids are real."),
    ]  # fmt: skip
    for path in (numbered, bare):
        personas = read_persona_chat(path)
        assert [p.traits for p in personas] == expected  # repeated profile kept once
        assert [p.persona_id for p in personas] == ["pc-0001", "pc-0002"]
        assert all(p.favours == () for p in personas)


def test_one_trait_per_line_blocks(tmp_path: Path) -> None:
    path = tmp_path / "personas.txt"
    path.write_text("\n\ni own a boat.\ni live alone in a cabin.\n\n\n"
                    "i am a nurse.\n  i love   cooking.  \ni have a cat.\n")  # fmt: skip
    personas = read_persona_chat(path)
    assert [p.traits for p in personas] == [
        ("i own a boat.", "i live alone in a cabin."),
        ("i am a nurse.", "i love cooking.", "i have a cat."),
    ]


def test_persona_file_option_reads_the_file_and_has_no_favours(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text(CONVAI2)
    personas = _personas("persona=file", f"persona.path={path}")
    assert len(personas) == 2 and personas[0].favours == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("", "holds no persona"),
        ("\n\n  \n", "holds no persona"),
        ("5 partner's persona: i love tea.\n6 hello\n", "holds no persona"),
        ("dir", "is not a file"),
    ],
)
def test_bad_persona_files_are_one_line_errors(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "p.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        _personas("persona=file", f"persona.path={path}")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert "persona.path=" in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["persona=file"], "persona=file needs persona.path=FILE"),
        (["persona=none", "persona.path=/x.txt"], "persona=none plays no persona"),
        (["persona.profiles.0.favours=[greed]"], "has unknown value(s) ['greed']"),
        (["persona.profiles.1.id=maker"], "id='maker' is used twice"),
        (["persona.profiles.0.traits=[]"], "must have 1..10 non-empty traits"),
        (["persona.kind=somebody"], "persona.kind='somebody' is not allowed"),
    ],
)
def test_bad_persona_config_is_one_clear_line(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(compose_raw(overrides))
    assert message in str(info.value) and "\n" not in str(info.value)
