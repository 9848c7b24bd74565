"""How a conversation is put to a local model: as chat-template messages, or as one flat
"Question: ... Answer:" prompt for models without chat memory (BLIP-2).

BLIP-2 was trained on single-turn VQA prompts; its processor has no chat template. Its prompt
folds the system text in front of the question, and a follow-up question (the probe's "why")
becomes a fresh single-turn prompt that quotes the earlier exchange, since the model cannot see
the previous turn any other way. ``QUESTION_ANSWER_FORMAT`` names this wording and enters the
backend's fingerprint, so a change of it can never be served from an older cache.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from valuespectrum.models.base import ImagePart, Message, ModelCallError

QUESTION_ANSWER_FORMAT = "question-answer-v1"


def decode_image(part: ImagePart, max_side: int | None) -> Any:
    """The PIL image of an encoded part, shrunk to ``max_side`` when larger."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(part.data)).convert("RGB")
    except Exception as exc:
        raise ModelCallError("bad_request", f"undecodable image: {exc}", retryable=False) from exc
    if max_side is not None and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return image


def chat_message(
    message: Message, max_side: int | None, control_tokens: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """One turn in the structure processors' chat templates read (images decoded); text that
    spells one of ``control_tokens`` is escaped (for processors that cannot sanitize it)."""
    parts = [
        {"type": "image", "image": decode_image(p, max_side)}
        if isinstance(p, ImagePart)
        else {"type": "text", "text": escape_control_tokens(p, control_tokens)}
        for p in message.content
    ]
    return {"role": message.role, "content": parts}


def control_tokens(tokenizer: Any) -> frozenset[str]:
    """The tokenizer's special and added-special token strings."""
    added = getattr(tokenizer, "added_tokens_decoder", {}).values()
    return frozenset(tokenizer.all_special_tokens) | {t.content for t in added if t.special}


def escape_control_tokens(text: str, control_tokens: frozenset[str]) -> str:
    """``<image>`` -> ``<\u2060image>``: a word joiner after the first character keeps the text
    readable but no longer the token, so a caption cannot add image slots or end a turn."""
    for token in sorted(control_tokens, key=len, reverse=True):
        if len(token) > 1 and token in text:
            text = text.replace(token, token[0] + "\u2060" + token[1:])
    return text


def question_answer_prompt(messages: Sequence[Message]) -> tuple[str, ImagePart]:
    """The flat prompt and the one image of a conversation, for a model without chat memory.

    ``[system, user(image, decision)]`` becomes ``Question: <system> <decision> Answer:``;
    ``[..., assistant(reply), user(why)]`` becomes ``Question: <system> Asked "<decision>",
    you answered "<reply>" <why> Answer:``. Anything the format cannot carry (no image, two
    images, a conversation that does not end on a question) is the request's fault.
    """
    images = [p for m in messages for p in m.content if isinstance(p, ImagePart)]
    if len(images) != 1:
        raise ModelCallError(
            "bad_request", f"this model takes one image per prompt, got {len(images)}",
            retryable=False,
        )
    turns = [m for m in messages if m.role != "system"]
    if len(turns) % 2 == 0 or turns[-1].role != "user":
        raise ModelCallError(
            "bad_request", "a question-answer prompt must end with a user turn", retryable=False
        )
    system = " ".join(_text(m) for m in messages if m.role == "system")
    quoted = []
    for asked, answered in zip(turns[:-1:2], turns[1:-1:2], strict=True):
        if (asked.role, answered.role) != ("user", "assistant"):
            raise ModelCallError("bad_request", "turns must alternate user and assistant",
                                 retryable=False)
        quoted.append(f'Asked "{_text(asked)}", you answered "{_text(answered)}"')
    question = " ".join(p for p in (system, *quoted, _text(turns[-1])) if p)
    return f"Question: {question} Answer:", images[0]


def _text(message: Message) -> str:
    return " ".join(p.strip() for p in message.content if isinstance(p, str) and p.strip())
