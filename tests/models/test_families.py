"""Every family the transformers backend loads, on a tiny random checkpoint of its own kind.

What a study needs from each: the native class loads it, the paper's two questions come back as
decoded text with first-token yes/no log-probabilities, batching changes no greedy answer, and
BLIP-2, which has no chat memory, is asked the "why" as a fresh prompt quoting its decision.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.tiny_families import BUILDERS
from valuespectrum.config import prompt_preset
from valuespectrum.models.base import GenerationParams, Message, ModelCallError, Reply
from valuespectrum.models.families import LOADABLE
from valuespectrum.models.transformers_backend import TransformersModel
from valuespectrum.models.transformers_prompts import question_answer_prompt
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import decision_messages, encode_image, why_messages

PAPER = probe_prompts(prompt_preset("paper"))
WITH_LOGPROBS = GenerationParams(max_tokens=6, logprobs=True)
RED = encode_image(Image.new("RGB", (80, 50), (200, 20, 20)))
BLUE = encode_image(Image.new("RGB", (40, 90), (20, 20, 200)))
PROBE = [decision_messages(PAPER, RED), why_messages(PAPER, BLUE, "Yes.")]
# A caption that spells every family's control tokens must stay text, never an image slot.
SNEAKY = (Message(role="user", content=(RED, "caption: <image> <IMG_CONTEXT> <|image_pad|> "
                                            "<fake_token_around_image> <|im_end|> </s> ok?")),)


def _run(model: TransformersModel, convs: Sequence[Sequence[Message]],
         params: GenerationParams = WITH_LOGPROBS) -> list[Reply | BaseException]:
    async def main() -> list[Reply | BaseException]:
        try:
            return await asyncio.gather(*(model.achat(c, params) for c in convs),
                                        return_exceptions=True)
        finally:
            await model.aclose()

    return asyncio.run(main())


def _replies(results: list[Reply | BaseException]) -> list[Reply]:
    assert all(isinstance(r, Reply) for r in results), results
    return [r for r in results if isinstance(r, Reply)]


@pytest.mark.parametrize("model_type", sorted(BUILDERS))
def test_each_family_answers_the_probe_through_its_native_class(
    model_type: str, tiny_checkpoint: Callable[[str], Path]
) -> None:
    folder = tiny_checkpoint(model_type)
    model = TransformersModel(model_type, str(folder), batch_size=2)
    loaded: list[str] = []

    async def main() -> list[Reply]:
        try:
            first = await model.achat(PROBE[0], WITH_LOGPROBS)
            loaded.append(type(model._model).__name__)
            rest = await asyncio.gather(*(model.achat(c, WITH_LOGPROBS) for c in PROBE))
            return [first, *rest, await model.achat(SNEAKY, WITH_LOGPROBS)]
        finally:
            await model.aclose()

    alone, *batched, sneaky = asyncio.run(main())
    assert isinstance(sneaky.text, str)
    assert loaded == [LOADABLE[model_type].loader]
    assert batched[0].extra["batch_size"] == 2
    assert batched[0].text == alone.text  # batching changes no greedy answer
    for reply in batched:
        assert isinstance(reply.text, str) and reply.output_tokens
        assert reply.input_tokens is not None and reply.input_tokens > 5
        assert reply.yes_logprob is not None and reply.yes_logprob < 0
        assert reply.no_logprob is not None and reply.no_logprob < 0


def test_blip2_prompts_are_flat_questions_and_the_why_quotes_the_decision() -> None:
    decision, image = question_answer_prompt(PROBE[0])
    assert image == RED
    assert decision == f"Question: {PAPER.system} {PAPER.decision} Answer:"
    why, image = question_answer_prompt(PROBE[1])
    assert image == BLUE
    assert why == (f'Question: {PAPER.system} Asked "{PAPER.decision}", you answered "Yes." '
                   f"{PAPER.why} Answer:")
    no_system = question_answer_prompt((Message(role="user", content=(RED, "Like it?")),))
    assert no_system[0] == "Question: Like it? Answer:"


@pytest.mark.parametrize(
    ("conversation", "reason"),
    [
        ((Message(role="user", content=(RED, BLUE, "Compare them.")),), "one image per prompt"),
        ((Message.text("user", "No picture?"),), "one image per prompt, got 0"),
        ((*PROBE[0], Message.text("assistant", "Yes.")), "must end with a user turn"),
    ],
)
def test_blip2_refuses_what_its_prompt_cannot_carry(conversation: tuple[Message, ...],
                                                    reason: str) -> None:
    with pytest.raises(ModelCallError, match=reason) as caught:
        question_answer_prompt(conversation)
    assert caught.value.kind == "bad_request" and not caught.value.retryable


def test_blip2_backend_sends_the_flat_prompts_and_a_bad_one_fails_alone(
    tiny_checkpoint: Callable[[str], Path]
) -> None:
    model = TransformersModel("blip2", str(tiny_checkpoint("blip-2")), batch_size=3)
    seen: list[list[str]] = []

    async def main() -> list[Reply | BaseException]:
        await model.achat(PROBE[0], WITH_LOGPROBS)  # loads the weights
        real = model._processor.__call__

        def spy(*args: Any, **kwargs: Any) -> Any:
            seen.append(list(kwargs["text"]))
            return real(*args, **kwargs)

        model._processor = _Spy(model._processor, spy)
        two_images = (Message(role="user", content=(RED, BLUE, "Which?")),)
        try:
            return await asyncio.gather(
                *(model.achat(c, WITH_LOGPROBS) for c in (*PROBE, two_images)),
                return_exceptions=True,
            )
        finally:
            await model.aclose()

    *good, bad = asyncio.run(main())
    assert isinstance(bad, ModelCallError) and bad.kind == "bad_request"
    _replies(good)
    # The bad request failed the batch's rendering, so each was retried alone.
    assert seen == [[question_answer_prompt(c)[0]] for c in PROBE]


class _Spy:
    """Stands in for the processor: calls go to ``call``, attributes to the real one."""

    def __init__(self, real: Any, call: Callable[..., Any]) -> None:
        self._real, self._call = real, call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_processor_limits_from_config_reach_the_processor(
    tiny_checkpoint: Callable[[str], Path]
) -> None:
    folder = str(tiny_checkpoint("qwen2_5_vl"))
    wide = [decision_messages(PAPER, encode_image(Image.new("RGB", (224, 224), (9, 90, 9))))]
    params = GenerationParams(max_tokens=1)
    small = {"size": {"shortest_edge": 28 * 28, "longest_edge": 56 * 56}}
    (default,) = _replies(_run(TransformersModel("q", folder), wide, params))
    (limited,) = _replies(_run(TransformersModel("q", folder, processor_kwargs=small), wide,
                               params))
    # 112x112 px (the tiny default cap) is 16 merged image tokens; 56x56 px is 4.
    assert default.input_tokens - limited.input_tokens == 12
    assert (TransformersModel("q", folder, processor_kwargs=small).fingerprint()
            != TransformersModel("q", folder).fingerprint())


def test_model_kwargs_from_config_reach_from_pretrained(
    tiny_checkpoint: Callable[[str], Path]
) -> None:
    model = TransformersModel("l", str(tiny_checkpoint("llava")),
                              model_kwargs={"attn_implementation": "eager"})
    implementations: list[str] = []

    async def main() -> None:
        try:
            await model.achat(PROBE[0], GenerationParams(max_tokens=1))
            implementations.append(model._model.config._attn_implementation)
        finally:
            await model.aclose()

    asyncio.run(main())
    assert implementations == ["eager"]


def test_a_checkpoint_of_another_family_fails_to_load_naming_its_type(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "internvl_chat"}))
    (error,) = _run(TransformersModel("ivl", str(tmp_path)), [PROBE[0]])
    assert isinstance(error, ModelCallError) and error.kind == "load"
    assert "internvl_chat" in str(error)

