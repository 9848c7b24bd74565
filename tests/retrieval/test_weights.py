"""Where pretrained CLIP weights come from, checked before any work: the local Hugging Face cache
first (no network, no torch), then one short look at the hub; a one-line refusal names the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fakes.status_server import StatusServer, closed_port_url
from valuespectrum.retrieval.embedding import WeightsUnavailableError
from valuespectrum.retrieval.weights import check_weights, hub_files, known_tags

REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"


def cache_with(root: Path, repo: str, filename: str) -> Path:
    """A Hugging Face hub cache holding one file of ``repo`` at revision main."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0123abcd")
    snapshot = folder / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / filename).write_bytes(b"weights")
    return root


def _refusal(**kw) -> str:
    with pytest.raises(WeightsUnavailableError) as info:
        check_weights("ViT-B-32", "laion2b_s34b_b79k", **kw)
    message = str(info.value)
    assert "\n" not in message and "embedder=tiny_clip" in message
    return message


def test_paper_tag_resolves_to_its_hub_files_as_open_clip_does() -> None:
    assert hub_files("ViT-B-32", "laion2b_s34b_b79k") == (
        REPO, ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
    )
    import open_clip

    for arch in ("ViT-B-32", "RN50", "ViT-L-14", "ViT-H-14", "ViT-B-32-quickgelu"):
        ours = known_tags(arch)
        assert ours, arch
        for tag, where in ours.items():
            theirs = open_clip.get_pretrained_cfg(arch, tag)
            assert (where["hf_hub"], where["url"]) == (theirs["hf_hub"], theirs["url"]), tag
        assert set(ours) == set(open_clip.list_pretrained_tags_by_model(arch))


def test_cached_weights_pass_without_network(tmp_path) -> None:
    cache = cache_with(tmp_path, REPO, "open_clip_pytorch_model.bin")
    check_weights("ViT-B-32", "laion2b_s34b_b79k", cache_dir=cache, offline=True,
                  endpoint=closed_port_url())


def test_missing_weights_are_refused_offline_or_when_the_hub_is_unreachable(tmp_path) -> None:
    message = _refusal(cache_dir=tmp_path, offline=True)
    assert "HF_HUB_OFFLINE" in message and "HF_HOME" in message
    assert "cannot reach" in _refusal(cache_dir=tmp_path, offline=False,
                                      endpoint=closed_port_url())
    with StatusServer(404) as hub:
        assert "HTTP 404" in _refusal(cache_dir=tmp_path, offline=False, endpoint=hub.url)
    with StatusServer(200, {"id": REPO}) as hub:  # reachable: the index stage downloads them
        check_weights("ViT-B-32", "laion2b_s34b_b79k", cache_dir=tmp_path, offline=False,
                      endpoint=hub.url)
        assert hub.requests == [("GET", f"/api/models/{REPO}")]


def test_unknown_tags_and_missing_checkpoint_files_are_refused(tmp_path) -> None:
    with pytest.raises(WeightsUnavailableError, match="laion2b_s34b_b79k"):
        check_weights("ViT-B-32", "laion9b", cache_dir=tmp_path, offline=True)
    with pytest.raises(WeightsUnavailableError, match="not a file"):
        check_weights("ViT-B-32", str(tmp_path / "ckpt.pt"), cache_dir=tmp_path, offline=True)
    checkpoint = tmp_path / "ckpt.pt"
    checkpoint.write_bytes(b"x")
    check_weights("ViT-B-32", str(checkpoint), cache_dir=tmp_path, offline=True)
    check_weights("tiny_clip", None, offline=True)  # random init needs nothing


def test_the_check_imports_neither_torch_nor_open_clip(tmp_path) -> None:
    code = (
        "import sys\nfrom valuespectrum.retrieval.weights import check_weights\n"
        "try:\n    check_weights('ViT-B-32', 'laion2b_s34b_b79k', offline=True,"
        f" cache_dir={str(tmp_path)!r})\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
        "print('HEAVY', [m for m in ('torch', 'open_clip') if m in sys.modules])"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert res.stdout.split() == ["WeightsUnavailableError", "HEAVY", "[]"], res.stderr
