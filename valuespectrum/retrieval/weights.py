"""Are the pretrained CLIP weights a config names available? Answered before any work.

open_clip resolves a pretrained tag (``laion2b_s34b_b79k``) through its table in
``open_clip/pretrained.py`` to a Hugging Face hub repo and downloads the checkpoint on first use.
Without hub access that fails only when the index stage starts, after the corpus was collected.
This module answers the question in pre-flight, without torch (``import open_clip`` costs ~5 s):
it reads open_clip's table as data (``ast``, never executed), looks for the checkpoint in the
local hub cache (no network), and only when it is not cached asks the hub once, briefly.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from valuespectrum.retrieval.embedding import WeightsUnavailableError

# open_clip's checkpoint names on the hub (open_clip.constants); the safetensors one is tried first.
HF_WEIGHTS_NAME = "open_clip_pytorch_model.bin"
HF_SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"
FIX = (
    "download them on a machine with hub access into HF_HOME and copy that folder here, "
    "or use embedder=tiny_clip"
)


def check_weights(
    arch: str,
    pretrained: str | None,
    *,
    cache_dir: str | Path | None = None,
    offline: bool | None = None,
    endpoint: str | None = None,
    timeout_s: float = 3.0,
) -> None:
    """Raise ``WeightsUnavailableError`` (one line, naming the fix) unless the weights can load.

    ``cache_dir``, ``offline`` and ``endpoint`` default to what huggingface_hub would use
    (``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT``).
    """
    if pretrained is None:
        return  # random init from init_seed
    if _looks_like_path(pretrained):
        if not Path(pretrained).expanduser().is_file():
            raise WeightsUnavailableError(
                f"embedder.pretrained={pretrained} is not a file; point it at a checkpoint "
                f"or use a tag of {arch} ({', '.join(known_tags(arch)) or 'none known'})"
            )
        return
    tags = known_tags(arch)
    where = tags.get(_clean_tag(pretrained))
    if where is None:
        raise WeightsUnavailableError(
            f"embedder.pretrained={pretrained} is not a pretrained tag of {arch}; use one of: "
            f"{', '.join(tags) or 'none (set embedder.pretrained=/path/to/checkpoint)'}"
        )
    files = hub_files(arch, pretrained)
    if files is None:  # only a download URL: open_clip caches it in ~/.cache/clip
        cached = Path("~/.cache/clip").expanduser() / os.path.basename(where["url"])
        if not cached.is_file():
            raise WeightsUnavailableError(
                f"{arch} weights {pretrained!r} are not in {cached.parent}; {FIX}"
            )
        return
    repo, names = files
    if _cached(repo, names, cache_dir):
        return
    what = f"{arch} weights {pretrained!r} ({repo}) are not in the local Hugging Face cache"
    if _offline() if offline is None else offline:
        raise WeightsUnavailableError(f"{what} and HF_HUB_OFFLINE is set; {FIX}")
    _ask_hub(repo, what, endpoint, timeout_s)


def hub_files(arch: str, pretrained: str) -> tuple[str, list[str]] | None:
    """The hub repo and the file names open_clip tries for a tag, in its order; None when the
    tag has no hub entry (a plain download URL)."""
    where = known_tags(arch).get(_clean_tag(pretrained))
    if not where or not where["hf_hub"]:
        return None
    repo, filename = os.path.split(where["hf_hub"])
    filename = filename or HF_WEIGHTS_NAME
    names = [filename]
    if filename == HF_WEIGHTS_NAME:
        names.insert(0, HF_SAFE_WEIGHTS_NAME)
    elif filename.endswith((".bin", ".pth")):
        names.insert(0, filename[:-4] + ".safetensors")
    return repo, names


def known_tags(arch: str) -> dict[str, dict[str, str]]:
    """Pretrained tags of ``arch`` -> {"hf_hub": ..., "url": ...}, read from open_clip's table."""
    table = _pretrained_table()
    if arch in table:
        return table[arch]
    base = arch.removesuffix("-quickgelu")
    if base != arch:  # open_clip derives these: the base model's tags trained with QuickGELU
        return {t: w for t, w in table.get(base, {}).items() if w["quick_gelu"] == "true"}
    return {}


@cache
def _pretrained_table() -> dict[str, dict[str, dict[str, str]]]:
    spec = importlib.util.find_spec("open_clip")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            "pretrained CLIP weights need open_clip: pip install open_clip_torch"
        )
    source = Path(next(iter(spec.submodule_search_locations))) / "pretrained.py"
    tree = ast.parse(source.read_text())
    names: dict[str, ast.expr] = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    table = names.get("_PRETRAINED")
    if not isinstance(table, ast.Dict):
        raise WeightsUnavailableError(f"cannot read open_clip's pretrained table in {source}")
    out: dict[str, dict[str, dict[str, str]]] = {}
    for key, value in zip(table.keys, table.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(value, ast.Name | ast.Call):
            entries = names.get(value.id) if isinstance(value, ast.Name) else value
            if isinstance(entries, ast.Call):
                tags = {kw.arg: _where(kw.value) for kw in entries.keywords if kw.arg}
                out[str(key.value)] = tags
    return out


def _where(call: ast.expr) -> dict[str, str]:
    kwargs = {
        kw.arg: kw.value.value
        for kw in getattr(call, "keywords", [])
        if kw.arg and isinstance(kw.value, ast.Constant)
    }
    return {
        "hf_hub": str(kwargs.get("hf_hub", "")),
        "url": str(kwargs.get("url", "")),
        "quick_gelu": str(bool(kwargs.get("quick_gelu", False))).lower(),
    }


def _clean_tag(tag: str) -> str:
    return tag.lower().replace("-", "_")  # as open_clip normalises tags


def _looks_like_path(value: str) -> bool:
    return os.sep in value or value.startswith("~") or value.endswith(
        (".pt", ".pth", ".bin", ".safetensors", ".ckpt")
    )


def _cached(repo: str, names: list[str], cache_dir: str | Path | None) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return any(
        isinstance(try_to_load_from_cache(repo, name, cache_dir=cache_dir), str) for name in names
    )


def _offline() -> bool:
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or value.upper() in {"1", "ON", "YES", "TRUE"}


def _ask_hub(repo: str, what: str, endpoint: str | None, timeout_s: float) -> None:
    """One short request: is the repo there? Then the index stage can download it."""
    if endpoint is None:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    url = f"{endpoint.rstrip('/')}/api/models/{repo}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return
    except urllib.error.HTTPError as exc:
        problem = f"the hub answered HTTP {exc.code} for {repo}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        problem = f"cannot reach the hub at {endpoint} ({reason})"
    raise WeightsUnavailableError(f"{what} and {problem}; {FIX}")
