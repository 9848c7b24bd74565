"""Is the OpenAI-compatible server a served model config talks to up? Asked before any work.

CogVLM2, DeepSeek-VL2 and the paper's InternVL2 run behind a server on this machine (vLLM,
LMDeploy, or the model's own demo server); their configs say how to start it (``model.serve``).
Without the check, an absent server shows up only after collect, index and retrieve, as one
connection error per call. One ``GET <api_base>/models`` answers both questions pre-flight can
ask cheaply: does anything listen, and does it serve the configured name.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from valuespectrum.config import ConfigError

# litellm's prefix for an OpenAI-compatible server; what follows is the served name.
OPENAI_PREFIX = "openai/"


def is_loopback(api_base: str) -> bool:
    host = urlsplit(api_base).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server(
    name: str, model: str, api_base: str | None, serve: str | None, *, timeout_s: float = 2.0
) -> None:
    """Refuse in one line when no server answers at a loopback ``api_base``, naming ``serve``.

    Remote servers are left to the call runner (a firewall may drop a probe that a real call
    would pass). A server that answers ``/models`` with a list that lacks the configured name is
    refused too, naming the names it serves; any other HTTP answer counts as up.
    """
    if not api_base or not is_loopback(api_base):
        return
    start = f"start it: {serve}" if serve else "start the server, or fix model.api_base"
    url = api_base.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError:
        return  # it answers; not every server lists its models
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"model={name}: no server answers at {api_base} ({reason}); {start}"
        ) from None
    served = _served_names(body)
    wanted = model.removeprefix(OPENAI_PREFIX)
    if served and model.startswith(OPENAI_PREFIX) and wanted not in served:
        raise ConfigError(
            f"model={name}: the server at {api_base} serves {', '.join(sorted(served))}, not "
            f"{wanted!r}; set model.model=openai/<one of those> (or restart it: {serve})"
        )


def _served_names(body: bytes) -> set[str]:
    try:
        data = json.loads(body).get("data")
    except (ValueError, AttributeError):
        return set()
    if not isinstance(data, list):
        return set()
    return {str(m["id"]) for m in data if isinstance(m, dict) and "id" in m}
