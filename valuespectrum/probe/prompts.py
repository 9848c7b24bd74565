"""The preference probe's wording, as data, and the conversations built from it.

The paper asks three questions per image (paper.md section 4): the decision ("do you like it?"),
the reason, asked in the same conversation after the model's decision, and a description, asked in
a separate conversation. The wording itself lives in YAML, one preset per file in conf/prompts/
(the paper's deployed prompt, the authors' prototype, paraphrases); a frozen ``ProbePrompts``
carries one of them. Every piece of wording, and the version id, enters
``ProbePrompts.fingerprint`` so that a change of wording can never be served from the cache of
another.

Images are encoded once, deterministically, by ``encode_image``: the same file always gives the
same JPEG bytes and therefore the same cache key.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuespectrum.models.base import ImagePart, Message

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class ProbePrompts:
    """The probe's wording (a preset from conf/prompts/, see ``valuespectrum.config``).

    An empty ``system`` sends no system turn, for chat templates that reject one. The fields are
    exactly what ``fingerprint`` hashes: adding one would change every cache key.
    """

    version: str
    system: str
    decision: str
    why: str
    describe: str

    def fingerprint(self) -> str:
        """sha256 over the version and every piece of wording: part of each cache key."""
        return wording_fingerprint(self)


def wording_fingerprint(wording: Any) -> str:
    """sha256 over a wording dataclass's fields (its version and every piece of text)."""
    payload = json.dumps(asdict(wording), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def encode_image(
    image: str | Path | Image,
    *,
    max_side: int | None = 768,
    size: tuple[int, int] | None = None,
    quality: int = 90,
) -> ImagePart:
    """Encode a file or PIL image as an RGB JPEG ``ImagePart``, deterministically.

    ``size=(width, height)`` resizes exactly, ignoring aspect: ``(144, 256)`` reproduces the
    prototype, which showed the model a 144x256 phone-shaped frame. Otherwise ``max_side`` shrinks
    the longer side to at most that many pixels, keeping the aspect ratio (``None`` keeps the
    original size). Images are never enlarged by ``max_side``. EXIF orientation is applied and
    transparency is flattened onto white, so what is encoded is what a person would see.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps

    if isinstance(image, str | Path):
        with PILImage.open(image) as opened:
            picture = ImageOps.exif_transpose(opened)  # a loaded copy; the file is closed
    else:
        picture = ImageOps.exif_transpose(image)
    picture = _to_rgb(picture)
    if size is not None:
        picture = picture.resize(size, PILImage.Resampling.BICUBIC)
    elif max_side is not None and max(picture.size) > max_side:
        scale = max_side / max(picture.size)
        new_size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(new_size, PILImage.Resampling.BICUBIC)
    buffer = io.BytesIO()
    # No EXIF, no optimisation passes: the bytes depend only on the pixels and these settings.
    picture.save(buffer, format="JPEG", quality=quality)
    return ImagePart(data=buffer.getvalue(), mime="image/jpeg")


def blank_like(image: ImagePart, grey: int = 128) -> ImagePart:
    """One uniform mid-grey picture of ``image``'s size, encoded as the probe encodes: the
    blank-image control (``probe.image=blank``), a yes-rate with no content to like."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(image.data)) as opened:
        size = opened.size
    return encode_image(PILImage.new("RGB", size, (grey, grey, grey)), max_side=None)


def _to_rgb(picture: Image) -> Image:
    """RGB with transparency composited on white (screenshots and stickers often have alpha)."""
    from PIL import Image as PILImage

    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("RGBA", "LA", "PA"):
        rgba = picture.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


def _system(prompts: ProbePrompts) -> tuple[Message, ...]:
    return (Message.text("system", prompts.system),) if prompts.system else ()


def decision_messages(prompts: ProbePrompts, image: ImagePart) -> tuple[Message, ...]:
    """Question 1: system turn, then the image and the decision question in one user turn."""
    return (*_system(prompts), Message(role="user", content=(image, prompts.decision)))


def why_messages(
    prompts: ProbePrompts, image: ImagePart, decision_reply: str
) -> tuple[Message, ...]:
    """Question 2, in the same conversation: the model sees its own decision before "why"."""
    return (
        *decision_messages(prompts, image),
        Message.text("assistant", decision_reply),
        Message.text("user", prompts.why),
    )


def describe_messages(prompts: ProbePrompts, image: ImagePart) -> tuple[Message, ...]:
    """Question 3, a separate conversation, so the description is not coloured by the decision.

    The system turn is kept so that all three questions share one framing.
    """
    return (*_system(prompts), Message(role="user", content=(image, prompts.describe)))
