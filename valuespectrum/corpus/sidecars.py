"""Sidecar metadata for folder corpora: ``metadata.csv``/``metadata.json`` and ``<image>.json``.

Where it is looked for (later wins per field): ``metadata.csv`` then ``metadata.json`` in every
folder from the scan root down to the image's folder, keyed by the image path relative to that
folder (column or key ``file``, ``/``-separated); then ``<name>.json`` (``a.png.json``) or, if
absent, ``<stem>.json`` (``a.json``) next to the image.

``metadata.json`` may be a list of objects with ``file`` or an object keyed by file. Known fields
are parsed (:data:`KNOWN_FIELDS`); the rest is passed through as ``extra``. A value that does not
parse is dropped with a warning and the image kept: a typo in a date must not cost a screenshot.

A file name that is not valid UTF-8 (``café.png`` saved by a Latin-1 system) is matched both by its
raw form and by its escaped text form (:func:`escape_path`: ``caf\\xe9.png``), the one collect
stores as ``source_path``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

METADATA_FILES = ("metadata.csv", "metadata.json")
KNOWN_FIELDS = frozenset({"platform", "url", "caption", "author", "hashtags", "collected_at"})


class MetadataIndex:
    """Lazily loaded sidecar metadata for every folder under ``root``."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._tables: dict[Path, dict[str, dict[str, Any]]] = {}

    def lookup(self, image: Path) -> dict[str, Any]:
        """Raw (unparsed) fields for ``image``, outermost folder first, per-image file last."""
        merged: dict[str, Any] = {}
        folder = image.parent
        chain = [folder, *folder.parents]
        for directory in reversed(chain[: chain.index(self._root) + 1]):
            key = image.relative_to(directory).as_posix()
            table = self._table(directory)
            merged.update(table.get(key) or table.get(_normal_key(escape_path(key)), {}))
        for sidecar in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
            if sidecar.is_file():
                row = _read_json(sidecar)
                if isinstance(row, dict):
                    merged.update(row)
                elif row is not None:
                    log.warning("ignoring %s: expected a JSON object", escape_path(sidecar))
                break
        merged.pop("file", None)
        return merged

    def _table(self, directory: Path) -> dict[str, dict[str, Any]]:
        if directory not in self._tables:
            table: dict[str, dict[str, Any]] = {}
            for name in METADATA_FILES:
                path = directory / name
                if path.is_file():
                    rows = _read_csv(path) if name.endswith(".csv") else _read_json_rows(path)
                    for key, row in _key_rows(rows, path).items():
                        table.setdefault(key, {}).update(row)
            self._tables[directory] = table
        return self._tables[directory]


def _read_csv(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [
                {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
                for row in csv.DictReader(handle)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("ignoring %s: %s", escape_path(path), exc)
        return []


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("ignoring %s: %s", escape_path(path), exc)
        return None


def _read_json_rows(path: Path) -> list[dict[str, Any]]:
    """Accept either ``[{"file": ...}, ...]`` or ``{"<file>": {...}, ...}``."""
    data = _read_json(path)
    if isinstance(data, dict):
        data = [{"file": k, **v} for k, v in data.items() if isinstance(v, dict)]
    if not isinstance(data, list):
        if data is not None:
            log.warning("ignoring %s: expected a list of objects or an object", escape_path(path))
        return []
    return [row for row in data if isinstance(row, dict)]


def _key_rows(rows: list[dict[str, Any]], path: Path) -> dict[str, dict[str, Any]]:
    keyed: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=1):
        key = row.get("file")
        if not isinstance(key, str) or not key.strip():
            log.warning("%s row %d has no 'file'; row ignored", escape_path(path), number)
            continue
        key = _normal_key(key)
        if key in keyed:
            log.warning("%s lists %s twice; the later row wins", escape_path(path), key)
        keyed[key] = row
    return keyed


def _normal_key(key: str) -> str:
    """A ``file`` value as a lookup key: ``/``-separated (Windows ``\\`` too), no leading ``./``."""
    return key.strip().replace("\\", "/").removeprefix("./")


def escape_path(path: str | os.PathLike[str]) -> str:
    """``path`` as valid UTF-8 text: undecodable name bytes become ``\\xNN`` (backslashreplace).

    Names read from disk that are not UTF-8 arrive as surrogate-escaped ``str``, which databases
    and JSON refuse; valid names come back unchanged. (A name that really contains ``\\xe9`` as
    text reads the same as the byte; such names are rare enough to accept that.)
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def merge_fields(kept: dict[str, Any], dropped: dict[str, Any]) -> dict[str, Any]:
    """Parsed fields of a kept file, completed from a dropped duplicate of the same content.

    Field by field the kept file wins; fields it lacks (or has empty) come from ``dropped``;
    hashtags are unioned, the kept file's first.
    """
    merged = dict(kept)
    for name, value in dropped.items():
        if name == "hashtags":
            merged[name] = tuple(dict.fromkeys((*merged.get(name, ()), *value)))
        elif merged.get(name) in (None, "", (), [], {}):
            merged[name] = value
    return merged


def parse_fields(raw: dict[str, Any], image: Path | str) -> dict[str, Any]:
    """Turn raw sidecar values into typed fields; drop (and warn about) any that do not parse."""
    fields: dict[str, Any] = {k: v for k, v in raw.items() if k not in KNOWN_FIELDS}
    for name in sorted(KNOWN_FIELDS & raw.keys()):
        try:
            value = _PARSERS[name](raw[name])
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            log.warning("%s: dropping bad %s=%r (%s)", image, name, raw[name], exc)
            continue
        if value not in (None, "", ()):
            fields[name] = value
    return fields


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise TypeError("expected text")
    return str(value).strip() or None


def parse_hashtags(value: Any) -> tuple[str, ...]:
    """Hashtags from a list or a ``"#a #b"`` / ``"a, b"`` string: no ``#``, deduplicated."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = re.split(r"[\s,;]+", value)
    elif isinstance(value, (list, tuple)):
        parts = [str(p) for p in value]
    else:
        raise TypeError("expected a list or a string")
    tags = (p.strip().lstrip("#").strip() for p in parts)
    return tuple(dict.fromkeys(t for t in tags if t))


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 text (or Unix seconds) as an aware UTC datetime; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("expected a timestamp")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_PARSERS = {
    "platform": lambda v: (_text(v) or "").lower() or None,
    "url": _text,
    "caption": _text,
    "author": lambda v: (_text(v) or "").lstrip("@") or None,
    "hashtags": parse_hashtags,
    "collected_at": parse_timestamp,
}
