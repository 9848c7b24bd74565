"""What a job records: run names from overrides, params of the stages that run, metric kinds."""

from __future__ import annotations

from dataclasses import asdict

from valuespectrum.run_record import (
    param_texts,
    run_name,
    split_blobs,
    stage_metrics,
    stage_params,
)
from valuespectrum.tracking import REDACTED, flatten


def test_sweep_jobs_are_named_after_the_swept_overrides_only() -> None:
    job = ["model=gpt4o", "strategy=isq", "retrieve.k=3", "corpus.n=60", "paths.workspace=/w"]
    swept = ["model", "strategy", "retrieve.k"]
    assert run_name(job, swept) == "model=gpt4o,strategy=isq,retrieve.k=3"
    other = ["model=gpt4o", "strategy=isq", "retrieve.k=5", "corpus.n=60", "paths.workspace=/w"]
    assert run_name(other, swept) != run_name(job, swept)
    assert run_name(["+probe.samples=2", "model=claude"], ["probe.samples"]) == "+probe.samples=2"


def test_a_single_run_is_named_after_what_it_changes_not_where_it_writes() -> None:
    job = ["model=claude", "retrieve.k=3", "paths.workspace=/tmp/w", "progress=false",
           "tracking.experiment=x"]
    assert run_name(job) == "model=claude,retrieve.k=3"
    assert run_name([]) == "run" and run_name(["paths.workspace=/w"]) == "run"
    # numeric group options reach Hydra quoted (threshold='50'); the name shows them as typed
    assert run_name(["threshold='50'", "strategy=isq"], ["threshold"]) == "threshold=50"
    assert len(run_name([f"probe.text.decision={'x' * 400}"])) <= 200


def test_metrics_are_split_into_results_counts_and_timings_and_rounded() -> None:
    named = stage_metrics(
        "probe",
        {
            "score/hedonism": 73.333333,
            "ci_low/hedonism": 56.6666,
            "usage/calls_made": 123457.0,
            "timing/seconds": 12.345678,
            "usage/cost_usd": 0.00123456,
        },
    )
    assert named == {
        "probe/score/hedonism": 73.33,
        "probe/ci_low/hedonism": 56.67,
        "usage/probe/calls_made": 123457.0,  # usage is never rounded
        "timing/probe/seconds": 12.35,
        "usage/probe/cost_usd": 0.00123456,
    }


def test_params_cover_only_the_stages_that_run(make_config) -> None:
    config = asdict(make_config("stages=[collect,index,retrieve]"))
    flat = flatten(stage_params(config, ["collect", "index", "retrieve"]))
    sections = {k.split(".")[0] for k in flat}
    assert {"corpus", "embedder", "retrieve", "value_keywords", "seed", "stages"} <= sections
    assert not sections & {"model", "probe", "persona", "strategy", "platform", "threshold"}
    probe = flatten(stage_params(config, ["probe"]))
    assert probe["model.generation.max_tokens"] == config["model"]["generation"]["max_tokens"]
    assert "corpus.n" not in probe and "persona.name" not in probe
    induce = flatten(stage_params(config, ["induce"]))
    assert "persona.profiles" in induce and "strategy.kind" in induce


def test_keyword_lists_and_personas_move_to_files_and_params_stay_short(make_config) -> None:
    config = asdict(make_config())
    kept, files = split_blobs(config)
    assert files["value_keywords.json"] == config["value_keywords"]["values"]
    assert files["persona.json"] == config["persona"]["profiles"]
    params = param_texts(flatten(kept))
    assert params["value_keywords.values"] == "10 entries; see value_keywords.json"
    assert all(len(v) <= 250 and "\n" not in v for v in params.values())
    long = param_texts({"model.notes": "a" * 300, "other": "b" * 300})
    assert long["model.notes"].startswith("<300 chars, sha256 ")
    assert long["model.notes"] != long["other"]  # different texts stay tellable apart


def test_credentials_are_redacted_but_token_limits_are_not() -> None:
    flat = flatten({
        "model": {"api_key": "sk-canary", "api_key_env": "OPENAI_API_KEY", "hf_token": "hf_x",
                  "generation": {"max_tokens": 300, "max_new_tokens": 8}, "tokenizer": "t5"},
        "db": {"password": "p", "client_secret": "s", "access_token": "a"},
    })
    assert {k for k, v in flat.items() if v == REDACTED} == {
        "model.api_key", "model.hf_token", "db.password", "db.client_secret", "db.access_token",
    }
    assert flat["model.generation.max_tokens"] == 300 and flat["model.tokenizer"] == "t5"
    assert flat["model.api_key_env"] == "OPENAI_API_KEY"


def test_a_job_records_how_it_ended_in_run_json_even_when_a_stage_fails(make_config, tmp_path,
                                                                         monkeypatch) -> None:
    import json

    import pytest

    from valuespectrum import runner
    from valuespectrum.stages import collect

    def broken(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(collect, "run", broken)
    cfg = make_config("stages=[collect]", "tracking.enabled=false", "retrieve.k=3")
    with pytest.raises(RuntimeError, match="disk full"):
        runner.run(cfg, output_dir=tmp_path / "job", overrides=["retrieve.k=3"],
                   choices={"model": "respondent", "hydra/launcher": "basic"})
    record = json.loads((tmp_path / "job" / "run.json").read_text())
    assert record["status"] == "failed" and record["stages"] == ["collect"]
    assert record["overrides"] == ["retrieve.k=3"] and record["choices"] == {"model": "respondent"}
    assert record["settings"]["retrieve.k"] == 3
    assert "value_keywords.values" not in record["settings"]  # long lists stay in their files
    assert record["probe_run"] is None and record["sessions"] == []
    assert record["mlflow"]["run_id"] is None
