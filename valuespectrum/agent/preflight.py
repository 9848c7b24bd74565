"""What the induce stage checks before any work, in one line each (called by the runner)."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from valuespectrum.config import ConfigError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_induce(cfg) -> None:
    """Refuse settings that cannot give a measurement: a dwell the recommender would not read
    as the agent meant it, a web platform that cannot be reached, a browser that is missing."""
    a, r = cfg.agent, cfg.recommender
    stay_ms, skip_ms = round(a.stay_s * 1000), round(a.skip_s * 1000)
    if stay_ms < r.long_watch_ms:
        raise ConfigError(
            f"agent.stay_s={a.stay_s:g} is shorter than recommender.long_watch_ms="
            f"{r.long_watch_ms}: the feed would never see a stay; raise agent.stay_s"
        )
    if skip_ms >= r.skip_ms:
        raise ConfigError(
            f"agent.skip_s={a.skip_s:g} is not below recommender.skip_ms={r.skip_ms}: the feed "
            "would not read a swipe as a skip; lower agent.skip_s"
        )
    p = cfg.platform
    if p.kind == "web":
        if a.driver != "browser":
            raise ConfigError(
                f"platform={p.name} is a web feed; the direct driver drives only the local feed: "
                "use agent.driver=browser (or platform=localfeed)"
            )
        host = urlparse(p.feed_url).hostname or ""
        if host not in LOOPBACK_HOSTS and not _reachable(p.feed_url):
            raise ConfigError(
                f"platform={p.name}: {p.feed_url} cannot be reached from here (offline); real "
                "platforms need a network, a logged-in profile and their own page adapter, "
                "which is untested here: use platform=localfeed, or platform.feed_url=<a "
                "loopback mirror serving the local feed's page>"
            )
    if a.driver == "browser":
        from pathlib import Path

        for key, path in (("agent.chromium", a.chromium), ("agent.chromedriver", a.chromedriver)):
            if not Path(path).is_file():
                raise ConfigError(
                    f"{key}={path} does not exist; apt-get install -y chromium chromium-driver "
                    f"or point {key} at the binary"
                )


def _reachable(url: str, timeout_s: float = 3.0) -> bool:
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False
