"""The tracking backend, checked before any work, and MLflow's HTTP retries kept short.

A tracking URI that cannot work used to surface only when the run opened its MLflow run: an
unknown scheme as a 40-line traceback, a dead server after about four minutes of MLflow's own
retries. ``check_backend`` answers in pre-flight within seconds and without mlflow (the only
importer of mlflow stays ``tracking.py``).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class TrackingUnavailableError(RuntimeError):
    """The tracking backend cannot be used; the message names ``tracking.uri`` and the fix."""


# MLflow's defaults (7 retries, backoff factor 2, 120 s per request) wait about four minutes on a
# dead server; ours give up within seconds. A value the user exported wins.
SHORT_HTTP_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
DB_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
OTHER_SCHEMES = ("databricks", "databricks-uc", "uc")
_URI_HINT = (
    "use sqlite:///ABS/PATH/mlflow.db, http(s)://host:port of an MLflow server, or leave "
    "tracking.uri unset (sqlite in the workspace)"
)


def check_backend(uri: str, *, timeout_s: float = 3.0) -> None:
    """Refuse, in one line naming ``tracking.uri`` and the fix, a backend that cannot work.

    HTTP(S) servers get one GET of the experiments API with a short timeout and no retries;
    sqlite and file stores get their folder checked; other schemes must be ones MLflow serves.
    """
    scheme = urllib.parse.urlparse(uri).scheme.lower()
    where = f"tracking.uri={uri}"
    if scheme in ("http", "https"):
        _check_server(uri, where, timeout_s)
    elif scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            raise TrackingUnavailableError(f"{where} names no database file; {_URI_HINT}")
        _check_folder(Path(path).parent, where)
    elif scheme in ("", "file"):
        if os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() not in ("1", "true"):
            raise TrackingUnavailableError(
                f"{where} is a file store, which MLflow refuses unless MLFLOW_ALLOW_FILE_STORE"
                f"=true is set; {_URI_HINT}"
            )
        path = urllib.parse.urlparse(uri).path if scheme else uri
        _check_folder(Path(path).expanduser(), where)
    elif scheme.split("+")[0] not in DB_SCHEMES + OTHER_SCHEMES:
        raise TrackingUnavailableError(f"{where} has unknown scheme {scheme!r}; {_URI_HINT}")


def _check_server(uri: str, where: str, timeout_s: float) -> None:
    url = f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search?max_results=1"
    request = urllib.request.Request(url, headers=_auth_headers())
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            json.loads(response.read() or b"{}")
        return
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            problem = "answers but serves no MLflow tracking API there"
        elif exc.code in (401, 403):
            problem = (
                f"refused access (HTTP {exc.code}); set MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN"
            )
        else:
            problem = f"answered HTTP {exc.code}"
    except ValueError:
        problem = "answers but not with MLflow's JSON"
    except (urllib.error.URLError, OSError) as exc:
        problem = f"cannot reach the server ({getattr(exc, 'reason', exc)})"
    raise TrackingUnavailableError(
        f"{where}: {problem}; start the server (mlflow server --host 127.0.0.1 --port 5000), "
        "fix tracking.uri, or set tracking.enabled=false"
    )


def _auth_headers() -> dict[str, str]:
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    user, password = (os.environ.get(f"MLFLOW_TRACKING_{k}") for k in ("USERNAME", "PASSWORD"))
    if token:
        return {"Authorization": f"Bearer {token}"}
    if user and password:
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    return {}


def _check_folder(folder: Path, where: str) -> None:
    """The folder must be writable, or creatable under its nearest existing parent."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise TrackingUnavailableError(f"{where}: {existing} is not a folder; {_URI_HINT}")
    if not os.access(existing, os.W_OK):
        raise TrackingUnavailableError(f"{where}: {existing} is not writable; {_URI_HINT}")


def use_short_http_retries() -> None:
    """Make this process's MLflow client give up on a failing server within seconds."""
    for name, value in SHORT_HTTP_RETRIES.items():
        os.environ.setdefault(name, value)
