"""The selected jobs' stored tables as one ``ReportData`` (read-only; never a model call).

Each job record (report.selection) names its workspace, probe run, score set and sessions; the
rows are read from each workspace once (store.reading) and given the job's short label
``job``. The settings that differ between the jobs become ``factor.<key>`` columns of ``runs``:
the keys of the jobs' overrides (``retrieve.k``, ``prompts.decision``) and Hydra group choices
(``model``, ``prompts``), each job's value taken from its own record, and a job's ``label`` is
built from them. Published tables join as ``source=table`` jobs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from valuespectrum.config import ConfigError
from valuespectrum.report.published import PublishedRow
from valuespectrum.report.sections import RUN_COLUMNS, ReportData
from valuespectrum.run_record import _override_key
from valuespectrum.store.reading import WorkspaceBusy, read_only, read_tables, table_columns
from valuespectrum.values import VALUES, higher_order_groups

FRAMES = ("scores", "keyword_scores", "answers", "sessions", "impressions")
# Top-level keys that never tell jobs apart in a report: where output went, which stages ran.
NOT_FACTORS = frozenset({"paths", "progress", "tracking", "hydra", "stages", "report"})


def report_data(records: Sequence[dict[str, Any]], published: Sequence[PublishedRow] = (), *,
                workspace: Path | None = None, hedonism_in: str = "openness_to_change"
                ) -> ReportData:  # fmt: skip
    """Read the tables of ``records`` (job records) and add the ``published`` rows."""
    jobs = [f"j{i + 1}" for i in range(len(records))]
    for job, record in zip(jobs, records, strict=True):
        if not record.get("probe_run") and not record.get("sessions"):
            raise ConfigError(f"{_name(record, job)} produced no probe run and no sessions "
                              f"(stages {','.join(record.get('stages', []))}); select jobs that "
                              "ran probe or induce")
    tables = _read(records, jobs, workspace)
    factors = factor_keys(records)
    runs = pd.DataFrame([_run_row(job, r, tables["probe_runs"], factors)
                         for job, r in zip(jobs, records, strict=True)],
                        columns=_run_columns(factors))  # fmt: skip
    runs["label"] = _unique(runs["label"])
    frames = {name: _per_job(tables[name], records, jobs, name) for name in FRAMES}
    if published:
        runs, frames["scores"] = _with_published(runs, frames["scores"], published, factors,
                                                 hedonism_in)  # fmt: skip
    return ReportData(runs=runs, factors=tuple(factors), **frames)


def _name(record: dict[str, Any], job: str) -> str:
    what = record.get("_what") or job
    overrides = " ".join(record.get("overrides") or [])
    return f"{what} ({overrides})" if overrides else what


def _read(records, jobs, workspace: Path | None) -> dict[str, pd.DataFrame]:
    """Every table the records need, read once per workspace; a missing probe run is refused."""
    by_ws: dict[Path, list[int]] = {}
    for i, r in enumerate(records):
        ws = (workspace or Path(r["workspace"])).expanduser().resolve()
        by_ws.setdefault(ws, []).append(i)
    parts: dict[str, list[pd.DataFrame]] = {}
    for ws, members in by_ws.items():
        chosen = [records[i] for i in members]
        sets = {(r["probe_run"], r["scoring_key"]) for r in chosen if r.get("probe_run")}
        try:
            with read_only(ws) as con:
                got = read_tables(con, sorted(sets), sorted({p for p, _ in sets}),
                                  sorted({s for r in chosen for s in r.get("sessions") or []}))
        except FileNotFoundError:
            job = jobs[members[0]]
            raise ConfigError(f"{_name(records[members[0]], job)}: its workspace {ws} holds no "
                              "tables; pass report.workspace (--workspace) the folder they "
                              "were written to") from None
        except WorkspaceBusy as exc:
            raise ConfigError(str(exc)) from None
        for i in members:
            _check_present(records[i], jobs[i], ws, got)
        for name, frame in got.items():
            parts.setdefault(name, []).append(frame)
    names = (*FRAMES, "probe_runs")
    return {n: _concat(parts.get(n, []), n) for n in names}


def _check_present(record, job: str, ws: Path, got: dict[str, pd.DataFrame]) -> None:
    probe_run, key = record.get("probe_run"), record.get("scoring_key")
    if probe_run:
        scores = got["scores"]
        found = ((scores["probe_run"] == probe_run) & (scores["scoring_key"] == key)).any()
        if not found:
            raise ConfigError(
                f"{_name(record, job)}: its probe run {probe_run} (score set {key}) is not in "
                f"the workspace {ws}; pass report.workspace (--workspace) the folder the job "
                "wrote to, or run the job again there"
            )
    missing = set(record.get("sessions") or []) - set(got["sessions"]["session_id"])
    if missing:
        raise ConfigError(f"{_name(record, job)}: {len(missing)} of its sessions are not in "
                          f"the workspace {ws}; pass report.workspace (--workspace) the folder "
                          "the job wrote to, or run the job again there")


def _concat(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(table_columns(name)))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _per_job(table: pd.DataFrame, records, jobs, name: str) -> pd.DataFrame:
    """The rows of each job, with ``job`` first (a row shared by two jobs appears twice)."""
    parts = []
    for job, r in zip(jobs, records, strict=True):
        if name in ("sessions", "impressions"):
            mask = table["session_id"].isin(r.get("sessions") or [])
        elif name in ("scores", "keyword_scores"):
            mask = (table["probe_run"] == r.get("probe_run")) & (
                table["scoring_key"] == r.get("scoring_key"))
        else:
            mask = table["probe_run"] == r.get("probe_run")
        parts.append(table[mask].assign(job=job))
    columns = ["job", *table.columns]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def factor_keys(records: Sequence[dict[str, Any]]) -> list[str]:
    """The override keys and group choices whose values differ between the records, in the
    order the sweep gave them, then as they first appear."""
    ordered: list[str] = []
    for r in records:
        ordered += r.get("swept") or []
    for r in records:
        ordered += [_override_key(o) for o in r.get("overrides") or []]
    for r in records:
        ordered += list(r.get("choices") or {})
    keys = [k for k in dict.fromkeys(ordered)
            if k.split("/", 1)[0].split(".", 1)[0] not in NOT_FACTORS]  # fmt: skip
    return [k for k in keys if len({factor_value(r, k) for r in records}) > 1]


def factor_value(record: dict[str, Any], key: str) -> str:
    """The job's value of ``key``: its group choice, else its resolved setting, else the text
    of its override (``""``: the job did not set it and it has no such setting)."""
    choices = record.get("choices") or {}
    if key in choices:
        return str(choices[key])
    settings = record.get("settings") or {}
    if key in settings:
        value = settings[key]
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    for o in record.get("overrides") or []:
        if _override_key(o) == key:
            return o.split("=", 1)[1] if "=" in o else ""
    return ""


def _run_columns(factors: Iterable[str]) -> list[str]:
    return [*RUN_COLUMNS, *(f"factor.{k}" for k in factors), "workspace", "overrides"]


def _run_row(job: str, r: dict[str, Any], probe_runs: pd.DataFrame, factors) -> dict[str, Any]:
    settings = r.get("settings") or {}
    meta = probe_runs[probe_runs["probe_run"] == r.get("probe_run")]
    first = meta.iloc[0] if len(meta) else None
    model = (r.get("choices") or {}).get("model") or settings.get("model.name")
    model_label = first["model_label"] if first is not None else (
        settings.get("model.label") or model)
    values = {f"factor.{k}": factor_value(r, k) for k in factors}
    label = " ".join(f"{k}={v}" for k, v in zip(factors, values.values(), strict=True))
    return {
        "job": job, "label": label or str(model_label), "source": "run",
        "mlflow_run_id": (r.get("mlflow") or {}).get("run_id"),
        "output_dir": r.get("output_dir"), "probe_run": r.get("probe_run"),
        "scoring_key": r.get("scoring_key"), "model": model, "model_label": model_label,
        "simulated": bool(first["simulated"] if first is not None
                          else r.get("simulated", False)),
        "prompt_version": first["prompt_version"] if first is not None else None,
        "true_profile": _true_profile(settings),
        "induce_window": settings.get("induce.window") if r.get("sessions") else None,
        "describer": (settings.get("describer")
                      if settings.get("modality") == "description" else None),
        **values, "workspace": r.get("workspace"), "overrides": " ".join(r.get("overrides", [])),
    }


def _true_profile(settings: dict[str, Any]) -> dict[str, float] | None:
    """The profile a simulated respondent was given (``model.profile.<value>``; only the
    respondent's schema has one), else None."""
    profile = {v: settings.get(f"model.profile.{v}") for v in VALUES}
    if any(x is None for x in profile.values()):
        return None
    return {v: float(x) for v, x in profile.items()}


def _unique(labels: pd.Series) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _with_published(runs, scores, published, factors, hedonism_in: str):
    group_of = {v: g for g, vs in higher_order_groups(hedonism_in).items() for v in vs}
    rows, score_rows = [], []
    for p in published:
        job = f"{p.table}:{p.model}"
        rows.append({"job": job, "label": f"{p.label} ({p.table})", "source": "table",
                     "model": p.model, "model_label": p.label, "simulated": False,
                     "true_profile": None, "induce_window": None, "describer": None,
                     **{f"factor.{k}": (p.model if k == "model" else "") for k in factors}})
        for value, score in p.scores.items():
            n = p.n_images
            score_rows.append({
                "job": job, "model": p.model, "value": value, "higher_order": group_of[value],
                "score": score, "n": n, "n_images": n,
                "n_yes": round(score * n / 100) if n else None,
            })
    extra = pd.DataFrame(rows, columns=runs.columns)
    runs = pd.concat([runs, extra], ignore_index=True) if len(runs) else extra
    added = pd.DataFrame(score_rows).reindex(columns=scores.columns)
    scores = pd.concat([scores, added], ignore_index=True) if len(scores) else added
    return runs, scores
