"""Which local checkpoints the transformers backend can load, with which class, asked how.

A checkpoint's ``config.json`` names its ``model_type``; ``LOADABLE`` maps each type the backend
serves to its native transformers class and to how a conversation is put to it (``chat``: the
processor's chat template; ``question_answer``: BLIP-2's flat "Question: ... Answer:" prompt).
Every other type is refused in pre-flight, in one line naming the served route: the paper's
InternVL2 (``internvl_chat``), CogVLM2 and DeepSeek-VL2 ship only remote code that transformers
5.x cannot load, so their configs in conf/model/ talk to an OpenAI-compatible server instead.

Nothing here imports torch or transformers: pre-flight reads ``config.json`` as JSON, from a
local folder, from the Hugging Face cache, or (not offline) from the hub, briefly.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.config import ConfigError


@dataclass(frozen=True)
class Family:
    """How the backend loads and asks one ``model_type``."""

    loader: str  # the transformers class, e.g. Qwen2_5_VLForConditionalGeneration
    prompt: str  # "chat" (chat template) | "question_answer" (flat "Question: ... Answer:")


LOADABLE: dict[str, Family] = {
    "llava": Family("LlavaForConditionalGeneration", "chat"),
    "qwen2_vl": Family("Qwen2VLForConditionalGeneration", "chat"),
    "qwen2_5_vl": Family("Qwen2_5_VLForConditionalGeneration", "chat"),
    "idefics3": Family("Idefics3ForConditionalGeneration", "chat"),  # SmolVLM (v1) checkpoints
    "smolvlm": Family("SmolVLMForConditionalGeneration", "chat"),  # SmolVLM2
    "internvl": Family("InternVLForConditionalGeneration", "chat"),  # OpenGVLab/*-hf
    "blip-2": Family("Blip2ForConditionalGeneration", "question_answer"),
}

# Hub model types known to need a server, and the shipped config that talks to one.
SERVED_ONLY: dict[str, str] = {
    "internvl_chat": "internvl2",
    "cogvlm2": "cogvlm2",
    "deepseek_vl_v2": "deepseek_vl2",
}

UNPINNED = (None, "", "main", "master")


def family(model_type: str) -> Family:
    """The family of a loadable ``model_type``; KeyError for any other."""
    return LOADABLE[model_type]


def is_folder(model_id: str) -> bool:
    """A local checkpoint folder rather than a hub id."""
    return Path(model_id).expanduser().is_dir()


def check_loadable(
    name: str, model_id: str, revision: str | None, serve: str | None, *, timeout_s: float = 3.0
) -> list[str]:
    """Refuse (ConfigError, one line) a checkpoint this backend cannot load; return warnings.

    The only warning is an unpinned hub revision: the weights behind ``main`` can change between
    two runs that share one cache key.
    """
    model_type = read_model_type(name, model_id, revision, timeout_s=timeout_s)
    if model_type not in LOADABLE:
        served = SERVED_ONLY.get(model_type)
        route = (
            f"use model={served} (it talks to a server; its file names the serve line)"
            if served
            else f"serve it ({serve})" if serve
            else "serve it with vLLM or LMDeploy and use model=openai_compatible"
        )
        raise ConfigError(
            f"model={name}: {model_id} is a '{model_type}' checkpoint, which the transformers "
            f"backend cannot load (it loads {', '.join(sorted(LOADABLE))}); {route}"
        )
    if not is_folder(model_id) and revision in UNPINNED:
        return [
            f"model={name}: {model_id} is not pinned (model.revision={revision or 'unset'}); "
            "the hub may change these weights under the same cache key: set model.revision to "
            "a commit sha"
        ]
    return []


def read_model_type(name: str, model_id: str, revision: str | None, *, timeout_s: float) -> str:
    """``model_type`` from the checkpoint's config.json; a one-line ConfigError when unreadable."""
    path = _config_path(name, model_id, revision, timeout_s)
    try:
        model_type = json.loads(Path(path).read_text()).get("model_type")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model={name}: cannot read {path}: {exc}") from None
    if not model_type:
        raise ConfigError(f"model={name}: {path} names no model_type; is it a transformers "
                          "checkpoint?")
    return str(model_type)


def _config_path(name: str, model_id: str, revision: str | None, timeout_s: float) -> str:
    if is_folder(model_id):
        path = Path(model_id).expanduser() / "config.json"
        if not path.is_file():
            raise ConfigError(f"model={name}: {model_id} holds no config.json; point model.model "
                              "at a folder written by save_pretrained, or at a hub id")
        return str(path)
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    rev = revision or "main"
    cached = try_to_load_from_cache(model_id, "config.json", revision=rev)
    if isinstance(cached, str):
        return cached
    fix = (
        f"download it on a machine with hub access (hf download {model_id} --revision {rev}) "
        "and copy HF_HOME here, or point model.model at a local folder"
    )
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise ConfigError(
            f"model={name}: {model_id}@{rev} is not in the Hugging Face cache and "
            f"HF_HUB_OFFLINE is set; {fix}"
        )
    _reach_hub(name, model_id, rev, fix, timeout_s)  # huggingface_hub retries for ~25 s
    try:
        return hf_hub_download(model_id, "config.json", revision=rev, etag_timeout=timeout_s)
    except Exception as exc:  # unknown repo or revision, gated repo
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"model={name}: cannot fetch {model_id}@{rev} config.json ({first}); {fix}"
        ) from None


def _reach_hub(name: str, model_id: str, rev: str, fix: str, timeout_s: float) -> None:
    """One short request before huggingface_hub's own, which retries an unreachable hub."""
    from huggingface_hub import constants

    url = f"{constants.ENDPOINT.rstrip('/')}/api/models/{model_id}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return
    except urllib.error.HTTPError:
        return  # it answers; hf_hub_download names what is wrong (gated, unknown revision)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"model={name}: {model_id}@{rev} is not in the Hugging Face cache and the hub at "
            f"{constants.ENDPOINT} cannot be reached ({reason}); {fix}"
        ) from None
