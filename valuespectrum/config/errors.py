"""The one error type of configuration, and the two checks every schema uses."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A configuration that cannot run; the message is one line naming the fix."""


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def one_of(key: str, value: Any, allowed: tuple[str, ...], hint: str = "") -> None:
    require(
        value in allowed,
        f"{key}={value!r} is not allowed; use one of {', '.join(allowed)}{hint}",
    )
