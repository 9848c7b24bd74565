"""TransformersModel on a tiny random LLaVA built on the fly: real processor, template and generate.

What matters for a study: batching never changes a greedy answer, the yes/no log-probabilities are
the model's first-token distribution, one bad request cannot fail its batch, and every failure is
a ``ModelCallError`` rather than an empty "no".
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.tiny_vlm import build_tiny_llava
from valuespectrum.config import prompt_preset
from valuespectrum.models.base import (
    ChatModel,
    GenerationParams,
    ImagePart,
    Message,
    ModelCallError,
    Reply,
)
from valuespectrum.models.transformers_backend import TransformersModel, _decode_image
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import decision_messages, encode_image, why_messages

PAPER = probe_prompts(prompt_preset("paper"))
GREEDY = GenerationParams(max_tokens=8)
Result = Reply | BaseException


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import torch

    # A 0.3 M-parameter model gains nothing from intra-op threads; on a shared 2-core box they
    # only spin against each other.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"), seed=0)
    finally:
        torch.set_num_threads(threads)


def _picture(color: tuple[int, int, int], size: tuple[int, int] = (80, 50)) -> ImagePart:
    image = Image.new("RGB", size, color)
    image.paste((255 - color[0], color[1], 255 - color[2]), (5, 5, size[0] // 2, size[1] // 2))
    return encode_image(image)


RED, GREEN, BLUE = _picture((200, 10, 10)), _picture((10, 200, 10), (30, 90)), _picture((9, 9, 200))
CONVERSATIONS: list[tuple[Message, ...]] = [
    decision_messages(PAPER, RED),
    (Message(role="user", content=(GREEN, "Why?")),),
    (Message(role="user", content=(BLUE, RED, "Compare these two pictures briefly.")),),
    (Message.text("user", "yes or no"),),
    why_messages(PAPER, BLUE, "Yes."),
]


def _model(folder: Path, **kw: Any) -> TransformersModel:
    return TransformersModel("tiny-llava", str(folder), **kw)


def _run(
    model: TransformersModel,
    convs: Sequence[Sequence[Message]],
    params: GenerationParams | Sequence[GenerationParams] = GREEDY,
) -> list[Result]:
    """Send all conversations at once (so the batcher can group them), then close the model."""
    per_call = [params] * len(convs) if isinstance(params, GenerationParams) else list(params)

    async def main() -> list[Result]:
        try:
            calls = [model.achat(c, p) for c, p in zip(convs, per_call, strict=True)]
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await model.aclose()

    return asyncio.run(main())


def _replies(results: list[Result]) -> list[Reply]:
    assert all(isinstance(r, Reply) for r in results), results
    return [r for r in results if isinstance(r, Reply)]


def test_constructor_loads_nothing_and_import_is_light() -> None:
    model = TransformersModel("m", "/nonexistent/model", device="cuda:3", dtype="bfloat16")
    assert isinstance(model, ChatModel)
    assert model._model is None
    code = (
        "import sys, valuespectrum.models.transformers_backend as b; "
        "b.TransformersModel('m', 'x'); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_fingerprint_names_weights_not_device() -> None:
    cpu = TransformersModel("m", "org/vlm", revision="abc123", dtype="float16")
    gpu = TransformersModel("m", "org/vlm", revision="abc123", dtype="float16", device="cuda")
    assert cpu.fingerprint() == gpu.fingerprint()
    assert cpu.fingerprint()["backend"] == "transformers"
    assert {k: cpu.fingerprint()[k] for k in ("model_id", "revision", "dtype")} == {
        "model_id": "org/vlm",
        "revision": "abc123",
        "dtype": "float16",
    }
    assert TransformersModel("m", "org/vlm").fingerprint() != cpu.fingerprint()


def test_rejects_unknown_dtype_and_batch_size() -> None:
    with pytest.raises(ValueError, match="dtype='fp8'"):
        TransformersModel("m", "x", dtype="fp8")
    with pytest.raises(ValueError, match="batch_size=0"):
        TransformersModel("m", "x", batch_size=0)


def test_reply_accounting(tiny_llava: Path) -> None:
    (reply,) = _replies(_run(_model(tiny_llava), CONVERSATIONS[:1]))
    assert isinstance(reply.text, str)
    # 16 image patches + 1 CLS token stand in for the one <image> placeholder.
    assert reply.input_tokens is not None and reply.input_tokens > 17
    assert reply.output_tokens is not None and 1 <= reply.output_tokens <= GREEDY.max_tokens
    assert reply.latency_s > 0
    assert reply.yes_logprob is None and reply.no_logprob is None


def test_batched_equals_unbatched_for_greedy(tiny_llava: Path) -> None:
    params = GenerationParams(max_tokens=12, logprobs=True)
    alone = _replies(_run(_model(tiny_llava, batch_size=1), CONVERSATIONS, params))
    batched = _replies(_run(_model(tiny_llava, batch_size=8), CONVERSATIONS, params))
    assert {r.extra["batch_size"] for r in alone} == {1}
    assert {r.extra["batch_size"] for r in batched} == {len(CONVERSATIONS)}  # one padded batch
    for one, many in zip(alone, batched, strict=True):
        assert one.text == many.text
        assert (one.input_tokens, one.output_tokens) == (many.input_tokens, many.output_tokens)
        assert one.yes_logprob == pytest.approx(many.yes_logprob, abs=1e-4)
        assert one.no_logprob == pytest.approx(many.no_logprob, abs=1e-4)
    assert len({r.text for r in batched}) > 1  # the conversations really differ


def test_yes_no_logprobs_are_first_token_log_softmax(tiny_llava: Path) -> None:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    params = GenerationParams(max_tokens=2, logprobs=True)
    (reply,) = _replies(_run(_model(tiny_llava), CONVERSATIONS[:1], params))

    processor = AutoProcessor.from_pretrained(tiny_llava)
    model = AutoModelForImageTextToText.from_pretrained(tiny_llava)
    image = Image.open(io.BytesIO(RED.data)).convert("RGB")
    conv = [
        {"role": "system", "content": [{"type": "text", "text": PAPER.system}]},
        {
            "role": "user",
            "content": [
                {"type": "image", "image": image},
                {"type": "text", "text": PAPER.decision},
            ],
        },
    ]
    inputs = processor.apply_chat_template(
        conv, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    with torch.inference_mode():
        logprobs = model(**inputs).logits[0, -1].log_softmax(-1)
    vocab = processor.tokenizer.get_vocab()
    decoded = {i: processor.tokenizer.decode([i]).strip().lower() for i in vocab.values()}
    yes_ids = [i for i, w in decoded.items() if w == "yes"]
    no_ids = [i for i, w in decoded.items() if w == "no"]
    assert len(yes_ids) >= 3 and len(no_ids) >= 3  # "yes", " Yes", "YES", ...
    assert reply.yes_logprob == pytest.approx(max(logprobs[i].item() for i in yes_ids), abs=1e-4)
    assert reply.no_logprob == pytest.approx(max(logprobs[i].item() for i in no_ids), abs=1e-4)
    assert math.exp(reply.yes_logprob) + math.exp(reply.no_logprob) < 1


def test_requests_with_different_params_are_not_mixed(tiny_llava: Path) -> None:
    short, long = GenerationParams(max_tokens=2), GenerationParams(max_tokens=6)
    convs = CONVERSATIONS[:4]
    mixed = _replies(_run(_model(tiny_llava), convs, [short, long, short, long]))
    assert [r.extra["batch_size"] for r in mixed] == [2, 2, 2, 2]
    assert all(r.output_tokens is not None for r in mixed)
    limits = [p.max_tokens for p in (short, long, short, long)]
    assert all(r.output_tokens <= n for r, n in zip(mixed, limits, strict=True))  # type: ignore[operator]
    alone = _replies(_run(_model(tiny_llava, batch_size=1), convs[:1], short))
    assert mixed[0].text == alone[0].text


def test_bad_request_fails_alone(tiny_llava: Path) -> None:
    broken = (Message(role="user", content=(ImagePart(b"not a jpeg"), "Like it?")),)
    convs = [CONVERSATIONS[0], broken, CONVERSATIONS[1]]
    results = _run(_model(tiny_llava), convs)
    error = results[1]
    assert isinstance(error, ModelCallError)
    assert error.kind == "bad_request" and not error.retryable
    good = _replies([results[0], results[2]])
    expected = _replies(_run(_model(tiny_llava, batch_size=1), [convs[0], convs[2]]))
    assert [r.text for r in good] == [r.text for r in expected]


def test_control_tokens_in_text_stay_text(tiny_llava: Path) -> None:
    sneaky = (Message(role="user", content=(RED, "caption: <image> </s> <pad> end")),)
    (reply,) = _replies(_run(_model(tiny_llava), [sneaky]))
    assert isinstance(reply.text, str)


def test_generate_errors_become_model_call_errors(tiny_llava: Path) -> None:
    model = _model(tiny_llava)

    async def main() -> None:
        await model.achat(CONVERSATIONS[0], GREEDY)  # loads the weights

        def out_of_memory(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

        model._model.generate = out_of_memory
        try:
            with pytest.raises(ModelCallError, match="out of memory") as caught:
                await model.achat(CONVERSATIONS[1], GREEDY)
            assert caught.value.kind == "other" and not caught.value.retryable
        finally:
            await model.aclose()

    asyncio.run(main())


def test_load_failure_is_a_model_call_error(tmp_path: Path) -> None:
    (error,) = _run(_model(tmp_path / "missing"), CONVERSATIONS[:1])
    assert isinstance(error, ModelCallError)
    assert error.kind == "load" and "cannot load" in str(error)


def test_generate_runs_off_the_event_loop_thread(tiny_llava: Path) -> None:
    model = _model(tiny_llava)
    threads: list[str] = []

    async def main() -> None:
        await model.achat(CONVERSATIONS[0], GREEDY)
        real = model._model.generate

        def spy(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return real(*args, **kwargs)

        model._model.generate = spy
        await model.achat(CONVERSATIONS[1], GREEDY)
        await model.aclose()

    asyncio.run(main())
    assert threads and threads[0].startswith("transformers-tiny-llava")
    assert threads[0] != threading.main_thread().name


def test_aclose_frees_weights_and_a_new_loop_reloads(tiny_llava: Path) -> None:
    model = _model(tiny_llava)
    (first,) = _replies(_run(model, CONVERSATIONS[:1]))
    assert model._model is None and model._executor is None
    (second,) = _replies(_run(model, CONVERSATIONS[:1]))  # another asyncio.run, fresh load
    assert first.text == second.text


def test_seeded_sampling_is_reproducible(tiny_llava: Path) -> None:
    params = GenerationParams(temperature=1.0, top_p=0.9, seed=7, max_tokens=10)
    first = _replies(_run(_model(tiny_llava, batch_size=1), CONVERSATIONS[:1], params))
    second = _replies(_run(_model(tiny_llava, batch_size=1), CONVERSATIONS[:1], params))
    assert first[0].text == second[0].text


def test_max_image_side_shrinks_before_the_processor() -> None:
    wide = _picture((50, 100, 150), (640, 360))
    assert _decode_image(wide, 128).size == (128, 72)
    assert _decode_image(wide, None).size == (640, 360)
    assert _decode_image(wide, 1000).size == (640, 360)


def test_tiny_llava_build_is_deterministic(tiny_llava: Path, tmp_path: Path) -> None:
    again = build_tiny_llava(tmp_path / "again", seed=0)
    other = build_tiny_llava(tmp_path / "other", seed=1)
    weights = [(d / "model.safetensors").read_bytes() for d in (tiny_llava, again, other)]
    assert weights[0] == weights[1] != weights[2]


def test_load_logs_our_lines_instead_of_transformers_progress(
    tiny_llava: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    _replies(_run(_model(tiny_llava), CONVERSATIONS[:1]))
    assert "Loading weights" not in capfd.readouterr().err
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("valuespectrum")]
    assert any(m.startswith(f"loading weights of {tiny_llava}") for m in ours)
    assert any(m.startswith(f"loaded {tiny_llava} in") for m in ours)
    assert not any("missing" in m for m in ours)  # a complete checkpoint: no warning
