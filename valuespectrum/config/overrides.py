"""Command-line overrides checked against ``conf/`` and the schema before Hydra composes them.

Hydra reports these mistakes itself, but in 5 to 20 lines, and for an unknown key it advises
``+foo=1``, which the schema then refuses. Here they become one line with the fix: a group
option that does not exist (with the valid ones), a list key given a bare value, a key the schema
does not know (with the nearest known key). Anything this module cannot judge for certain is left
to Hydra: it refuses only what would certainly fail.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.config.models import MODEL_SCHEMAS
from valuespectrum.config.probe import moved_key
from valuespectrum.config.schema import Config

RERUN_HINT = "see python run.py --cfg job"


def check_overrides(argv: Sequence[str], conf_dir: Path) -> str | None:
    """The first certain mistake in ``argv`` (``python run.py``'s arguments), or None."""
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = get_args_parser()
    parser.exit_on_error = False
    try:
        args, _ = parser.parse_known_args(list(argv))
    except Exception:  # a malformed flag: Hydra's own message says it best
        return None
    if args.config_name or args.config_path or args.config_dir:
        return None  # another config than conf/config.yaml: not ours to judge
    problems = []
    for text in args.overrides:
        try:
            override = OverridesParser.create().parse_override(text)
        except HydraException as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"cannot parse {text}: {first}; quote values with special characters: key='...'"
        problems.append(_check(override, conf_dir))
    return next((p for p in problems if p), None)


def quote_numeric_options(argv: Sequence[str], conf_dir: Path) -> list[str]:
    """``argv`` with numeric group options quoted: ``threshold=50,60`` -> ``threshold='50','60'``.

    Hydra reads ``threshold=70`` as the integer 70 and refuses it as a group choice (options of
    conf/threshold/ are named 40, 50, 60, 70, 80), so such values are quoted before it parses
    them; everything else is passed on untouched.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep
    from hydra.errors import HydraException

    out = []
    for text in argv:
        key = text.split("=", 1)[0].lstrip("+~").split("@", 1)[0]
        if text.startswith("-") or "=" not in text or "." in key or not (conf_dir / key).is_dir():
            out.append(text)
            continue
        try:
            value = OverridesParser.create().parse_override(text).value()
        except HydraException:
            out.append(text)
            continue
        if isinstance(value, ChoiceSweep) and value.simple_form:
            values = list(value.list)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values = [value]
        else:
            out.append(text)
            continue
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            out.append(text)
            continue
        quoted = [f"'{v}'" if isinstance(v, int | float) else v for v in values]
        out.append(f"{text.split('=', 1)[0]}={','.join(quoted)}")
    return out


def _check(override: Any, conf_dir: Path) -> str | None:
    key = override.key_or_group
    if key == "hydra" or key.startswith(("hydra.", "hydra/")) or override.is_delete():
        return None
    if (conf_dir / key).is_dir() and "." not in key:
        return _check_group(key, _values(override), conf_dir)
    moved = moved_key(key, override.value() if not override.is_sweep_override() else "...")
    if moved:
        return moved
    kind = _schema_type(key)
    if kind is None:
        return f"unknown key {key}{_nearest(key)}; {RERUN_HINT}"
    if typing.get_origin(kind) is list:
        return _check_list(key, override)
    return None


def _check_group(group: str, values: list[Any] | None, conf_dir: Path) -> str | None:
    options = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
    for value in values or []:
        if value is not None and str(value) not in options:
            return (
                f"{group}={value} is not an option of group {group}; choose one of: "
                f"{', '.join(options)}"
            )
    return None


def _check_list(key: str, override: Any) -> str | None:
    values = _values(override)
    if values is None or all(isinstance(v, list) or v is None for v in values):
        return None
    bare = ",".join(str(v) for v in values)
    return f"{key} must be a list: {key}=[{bare}]"


def _values(override: Any) -> list[Any] | None:
    """The value, or each value of a choice sweep; None for sweeps that need Hydra (glob)."""
    from hydra.core.override_parser.types import ChoiceSweep

    value = override.value()
    if isinstance(value, ChoiceSweep):
        return list(value.list)
    if override.is_sweep_override():
        return None
    return [value]


def _schema_type(key: str) -> Any:
    """The schema's type for a dotted key, or None when the schema has no such key.

    ``model.*`` keys are known when any backend's schema has them: which backend applies is
    only known after composition, where ``load_config`` refuses another backend's key.
    """
    if key.startswith("model."):
        kinds = [_schema_type_in(schema, key.split(".")[1:]) for schema in MODEL_SCHEMAS.values()]
        return next((k for k in kinds if k is not None), None)
    return _schema_type_in(Config, key.split("."))


def _schema_type_in(kind: Any, parts: list[str]) -> Any:
    for part in parts:
        kind = _unwrap(kind)
        if typing.get_origin(kind) in (dict, list):
            return kind  # free-form keys (model.profile.power) or list items
        if not dataclasses.is_dataclass(kind):
            return None
        hints = typing.get_type_hints(kind)
        if part not in hints:
            return None
        kind = hints[part]
    return _unwrap(kind)


def _unwrap(kind: Any) -> Any:
    """``X | None`` -> ``X``."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        rest = [a for a in typing.get_args(kind) if a is not type(None)]
        return rest[0] if len(rest) == 1 else kind
    return kind


def _nearest(key: str) -> str:
    known = list(_schema_keys(Config, ""))
    for schema in MODEL_SCHEMAS.values():
        known += [k for k in _schema_keys(schema, "model.") if k not in known]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def _schema_keys(kind: Any, prefix: str) -> typing.Iterator[str]:
    for name, hint in typing.get_type_hints(kind).items():
        yield prefix + name
        inner = _unwrap(hint)
        if dataclasses.is_dataclass(inner):
            yield from _schema_keys(inner, f"{prefix}{name}.")
