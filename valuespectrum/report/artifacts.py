"""Results folders kept in the workspace, published to a job once and referenced afterwards.

Contact sheets, figures and tables depend only on what they show, so they are drawn once into
a content-named folder of the workspace. The first job that shows them copies them into its
output folder and logs them to the tracker; a later job that reuses the same folder logs a
reference to that first run (tag ``reused.<artifact path>``) instead of uploading them again,
when that run lives in the same tracking store and experiment (one ledger file per store).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def fill_once(
    folder: Path, draw: Callable[[Path], None], mark: str, lock: Callable[[], Any]
) -> bool:
    """Create ``folder`` atomically with ``draw(tmp)``; False if it already existed.

    ``mark`` is the file written last by ``draw``: a folder without it is redrawn. Drawing
    happens outside ``lock`` (the workspace lock); putting the folder in place happens inside
    it, so a parallel job never replaces a folder another one has finished or is reading.
    """
    if (folder / mark).exists():
        return False
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    draw(tmp)
    with lock():
        if (folder / mark).exists():  # a sibling job finished the same folder meanwhile
            shutil.rmtree(tmp)
            return False
        if folder.exists():  # an incomplete folder left by a killed job (it has no mark)
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    return True


def publish(
    ctx,
    folder: Path,
    names: Sequence[str],
    artifact_path: str,
    *,
    rename: Callable[[str], str] = lambda name: name,
    unlogged: Sequence[str] = (),
) -> bool:
    """Copy ``names`` (and ``unlogged``) from ``folder`` into the job's output folder and log
    ``names``, or, when an earlier run in the same tracking store and experiment already
    logged this folder, record a reference to it instead. True if logged."""
    store_id = getattr(ctx.tracker, "store_id", None)
    store_tag = hashlib.sha256(str(store_id).encode()).hexdigest()[:12]
    ledger = folder / f"logged-{artifact_path.replace('/', '_')}-{store_tag}.json"
    first = _ledger(ledger) if store_id else None
    out = ctx.output_dir / artifact_path
    out.mkdir(parents=True, exist_ok=True)
    if first is not None:
        ref = f"runs:/{first}/{artifact_path}"
        (out / "REUSED.txt").write_text(f"{folder}\nlogged with MLflow run {ref}\n")
        ctx.tracker.set_tags({f"reused.{artifact_path}": ref})
        return False
    for name in (*names, *unlogged):
        dest = out / rename(name)
        shutil.copyfile(folder / name, dest)
        if name in names:
            ctx.tracker.log_artifact(dest, artifact_path)
    run_id = getattr(ctx.tracker, "run_id", None)
    if run_id and store_id:
        tmp = ledger.with_name(f"{ledger.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps({"run_id": run_id, "store": store_id}))
        os.replace(tmp, ledger)
    return True


def _ledger(ledger: Path) -> str | None:
    """The MLflow run that first logged these files under this artifact path, if any."""
    try:
        return str(json.loads(ledger.read_text())["run_id"])
    except (FileNotFoundError, KeyError, ValueError):
        return None
