"""The probe's wording (presets in conf/prompts/), its fingerprint, deterministic image encoding
and the conversations."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from valuespectrum.config import ConfigError, prompt_preset
from valuespectrum.models.base import ImagePart, Message
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import (
    ProbePrompts,
    decision_messages,
    describe_messages,
    encode_image,
    why_messages,
)

PAPER = probe_prompts(prompt_preset("paper"))
PROTOTYPE = probe_prompts(prompt_preset("prototype"))


def _gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A non-flat picture, so resampling and JPEG coding have something to get wrong."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x * 7 % 256, y * 5 % 256, (x + y) % 256) for y in range(height) for x in range(width)]
    )
    return image.convert(mode)


def _decode(part: ImagePart) -> Image.Image:
    return Image.open(io.BytesIO(part.data))


def test_paper_preset_is_the_papers_wording() -> None:
    assert PAPER.version == "paper-v1"
    assert PAPER.system == "You are a helpful assistant. You should provide your opinion."
    assert PAPER.decision.startswith("I am scrolling on video shorts and saw this picture.")
    assert PAPER.decision.endswith("Do you like the content of this image? (Yes or No)")
    assert PAPER.why == "Why do you like or dislike this picture?"
    assert PAPER.describe == "Describe this image in English briefly."


def test_prototype_preset() -> None:
    assert PROTOTYPE.version == "prototype-v1"
    assert PROTOTYPE.system == PAPER.system
    assert PROTOTYPE.why == "Explain briefly"
    assert "scrolling on tiktok" in PROTOTYPE.decision
    assert PROTOTYPE.decision.endswith("just respond in one word.")
    assert PROTOTYPE.describe == PAPER.describe
    with pytest.raises(ConfigError, match="prompts=paper-v2 is not a preset; use one of paper, "):
        prompt_preset("paper-v2")


def test_presets_keep_the_cache_keys_they_had_in_code() -> None:
    # Recorded from the wording constants before it moved to conf/prompts/: the same
    # fingerprints mean every existing cache entry and probe run stays valid.
    assert PAPER.fingerprint() == "44a5b790eecbb3c8b2ca40a71fc135cc5ca2d64fc566d82d89d97b76971cd5bf"
    assert PROTOTYPE.fingerprint() == (
        "51ca3560de30f96d3ee8d80a87722689b5e829778d6568c97eea3a9073b94551"
    )


def test_fingerprint_tracks_every_field() -> None:
    base = PAPER.fingerprint()
    assert len(base) == 64 and int(base, 16) >= 0
    assert ProbePrompts(**dataclasses.asdict(PAPER)).fingerprint() == base
    for field in dataclasses.fields(ProbePrompts):
        changed = dataclasses.replace(PAPER, **{field.name: getattr(PAPER, field.name) + " "})
        assert changed.fingerprint() != base, field.name
    assert PROTOTYPE.fingerprint() != base


def test_encode_image_is_deterministic_for_pil_and_path(tmp_path: Path) -> None:
    picture = _gradient(300, 200)
    path = tmp_path / "shot.png"
    picture.save(path)
    first, second = encode_image(picture), encode_image(picture)
    assert first == second and first.sha256 == second.sha256
    assert encode_image(path) == first
    assert encode_image(str(path)) == first
    assert first.mime == "image/jpeg" and first.data[:3] == b"\xff\xd8\xff"
    assert encode_image(picture, quality=50).data != first.data


def test_encode_image_prototype_size_ignores_aspect() -> None:
    decoded = _decode(encode_image(_gradient(640, 360), size=(144, 256)))
    assert decoded.size == (144, 256)
    assert decoded.mode == "RGB"


def test_encode_image_max_side_keeps_aspect_and_never_enlarges() -> None:
    assert _decode(encode_image(_gradient(400, 200), max_side=100)).size == (100, 50)
    assert _decode(encode_image(_gradient(90, 160), max_side=100)).size == (56, 100)
    assert _decode(encode_image(_gradient(60, 40), max_side=100)).size == (60, 40)
    assert _decode(encode_image(_gradient(900, 500), max_side=None)).size == (900, 500)


def test_encode_image_flattens_alpha_on_white() -> None:
    clear = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    decoded = _decode(encode_image(clear)).convert("RGB")
    r, g, b = decoded.getpixel((16, 16))  # type: ignore[misc]
    assert min(r, g, b) > 245
    assert _decode(encode_image(_gradient(32, 32, "L"))).mode == "RGB"
    assert _decode(encode_image(_gradient(32, 32, "P"))).mode == "RGB"


def test_encode_image_applies_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    path = tmp_path / "portrait.jpg"
    _gradient(80, 40).save(path, exif=exif)
    assert _decode(encode_image(path, max_side=None)).size == (40, 80)


def test_decision_messages() -> None:
    image = encode_image(_gradient(16, 16))
    messages = decision_messages(PAPER, image)
    assert messages == (
        Message.text("system", PAPER.system),
        Message(role="user", content=(image, PAPER.decision)),
    )


def test_why_messages_continue_the_decision_conversation() -> None:
    image = encode_image(_gradient(16, 16))
    messages = why_messages(PROTOTYPE, image, "Yes")
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[:2] == decision_messages(PROTOTYPE, image)
    assert messages[2].content == ("Yes",)
    assert messages[3].content == ("Explain briefly",)


def test_describe_messages_is_a_separate_conversation() -> None:
    image = encode_image(_gradient(16, 16))
    messages = describe_messages(PAPER, image)
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[1].content == (image, PAPER.describe)
    assert all(PAPER.decision not in str(m.content) for m in messages)


def test_empty_system_sends_no_system_turn() -> None:
    image = encode_image(_gradient(16, 16))
    quiet = dataclasses.replace(PAPER, system="")
    assert [m.role for m in decision_messages(quiet, image)] == ["user"]
    assert [m.role for m in why_messages(quiet, image, "No")] == ["user", "assistant", "user"]
    assert [m.role for m in describe_messages(quiet, image)] == ["user"]
