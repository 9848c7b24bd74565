"""On a CUDA device the local backends give the answers they give on the CPU (fp32, greedy).

Skipped where no GPU is present (see conftest's marker policy)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PIL import Image

from tests.fakes.tiny_families import BUILDERS
from tests.fakes.tiny_vlm import build_tiny_llava
from valuespectrum.config import prompt_preset
from valuespectrum.models.base import GenerationParams
from valuespectrum.models.transformers_backend import TransformersModel
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import decision_messages, encode_image
from valuespectrum.retrieval.embedding import ClipEmbedder, EmbedderSpec

PAPER = probe_prompts(prompt_preset("paper"))

pytestmark = pytest.mark.gpu


def _answers(folder, device: str) -> list[tuple[str, float | None]]:
    images = [encode_image(Image.new("RGB", (64, 64), c)) for c in [(200, 0, 0), (0, 0, 200)]]

    async def ask() -> list:
        model = TransformersModel("tiny", str(folder), device=device, batch_size=2)
        params = GenerationParams(max_tokens=6, logprobs=True)
        try:
            return await asyncio.gather(
                *(model.achat(decision_messages(PAPER, img), params) for img in images)
            )
        finally:
            await model.aclose()

    return [(r.text, r.yes_logprob) for r in asyncio.run(ask())]


def test_tiny_llava_on_cuda_answers_as_on_cpu(tmp_path) -> None:
    folder = build_tiny_llava(tmp_path / "tiny")
    cpu, gpu = _answers(folder, "cpu"), _answers(folder, "cuda")
    assert [t for t, _ in cpu] == [t for t, _ in gpu]
    assert np.allclose([lp for _, lp in cpu], [lp for _, lp in gpu], atol=1e-3)


@pytest.mark.parametrize("model_type", sorted(BUILDERS))
def test_each_tiny_family_on_cuda_answers_as_on_cpu(tmp_path, model_type: str) -> None:
    folder = BUILDERS[model_type](tmp_path / model_type)
    cpu, gpu = _answers(folder, "cpu"), _answers(folder, "cuda")
    assert [t for t, _ in cpu] == [t for t, _ in gpu]
    assert np.allclose([lp for _, lp in cpu], [lp for _, lp in gpu], atol=1e-3)


def test_clip_embedder_on_cuda_matches_cpu() -> None:
    texts = ["beach party", "trophy", "temple"]
    vectors = {}
    for device in ("cpu", "cuda"):
        spec = EmbedderSpec(name="tiny_clip", arch="tiny_clip", pretrained=None,
                            model_config="tiny_clip", device=device)
        vectors[device] = ClipEmbedder(spec).embed_texts(texts)
    assert np.allclose(vectors["cpu"], vectors["cuda"], atol=1e-4)
