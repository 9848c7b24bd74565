"""Every shipped config composes; bad configs fail before work with a one-line message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import CONF_DIR, ROOT, compose_raw
from valuespectrum.config import ConfigError, load_config
from valuespectrum.config.overrides import quote_numeric_options

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir())


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override",
    [f"{g}={o}" for g in GROUPS for o in _options(g) if g not in ("corpus", "persona")]
    + ["corpus=demo", "corpus=folder corpus.path=/tmp", "persona=default", "persona=none",
       "persona=file persona.path=/tmp/personas.txt"],
)
def test_every_shipped_option_composes_and_validates(override: str) -> None:
    # as the command line does: threshold=40 reaches Hydra as the option name '40'
    cfg = load_config(compose_raw(quote_numeric_options(override.split(), CONF_DIR)))
    group = override.split("=")[0]
    if group not in ("experiment", "paths"):
        assert getattr(cfg, group).name == override.split("=")[1].split()[0]


def test_study_axes_have_the_options_other_stages_rely_on() -> None:
    for group, option in [
        ("model", "gpt4o"),
        ("model", "claude"),
        ("strategy", "simple"),
        ("strategy", "isq"),
        ("platform", "tiktok"),
        ("platform", "youtube"),
        ("platform", "instagram"),
        ("platform", "localfeed"),
        ("threshold", "paper"),
    ]:
        assert option in _options(group), f"conf/{group}/{option}.yaml missing"
    assert load_config(compose_raw(["threshold=paper"])).threshold.isq_percent == 60


def test_keywords_cover_all_ten_values_with_paper_examples() -> None:
    cfg = load_config(compose_raw())
    kw = cfg.value_keywords.values
    assert len(kw) == 10
    assert all(len(v.keywords) >= 8 and v.rationale for v in kw.values())
    assert {"vacation", "comedy", "concert"} <= set(kw["hedonism"].keywords)
    assert {"equality", "globe", "handshake"} <= set(kw["universalism"].keywords)


def test_radar_axis_order_defaults_to_the_papers_and_can_be_the_circumplex() -> None:
    assert load_config(compose_raw()).plots.axis_order == "paper"
    cfg = load_config(compose_raw(["plots.axis_order=circumplex"]))
    assert cfg.plots.axis_order == "circumplex"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+corpus.sourc=demo"], "unknown config key 'corpus.sourc'"),
        (["retrieve.k=0"], "retrieve.k=0 must be between 1 and 100"),
        (["retrieve.k=abc"], "bad value for retrieve.k"),
        (["retrieve.caption_weight=1.5"], "retrieve.caption_weight=1.5"),
        (["stages=[collect,indx]"], "unknown stage(s) ['indx']"),
        (["model.backend=foo"], "model.backend='foo' is not allowed"),
        (["model=gpt4o", "model.device=cuda"], "model.device is not a setting of model=gpt4o"),
        (["model.generation.max_tokens=abc"], "bad value for model.generation.max_tokens"),
        (["model.profile.power=120"], "model.profile.power=120.0 must be a percentage"),
        (["~model.profile.power"], "model.profile must give all ten values (missing power)"),
        (["model=smolvlm", "model.dtype=int3"], "model.dtype='int3' is not allowed"),
        (["model=gpt4o", "model.image_detail=max"], "model.image_detail='max' is not allowed"),
        (["probe.text.decision=x"], "probe.text.decision was replaced by prompts.decision"),
        (["probe.prompts=prototype"], "use prompts=prototype"),
        (["prompts.why= "], "prompts.why is empty"),
        (["probe.concurrency=0"], "probe.concurrency must be >= 1"),
        (["corpus=folder"], "corpus.path"),
        (["corpus=folder", "corpus.path=/tmp", "corpus.max_file_mb=0"], "max_file_mb=0 must be"),
        (["corpus=folder", "corpus.path=/tmp", "corpus.follow_symlinks=x"], "inside, all, none"),
        (["strategy.window=99"], "strategy.window moved to induce.window; use induce.window=..."),
        (["induce.window=999"], "induce.window must be between 1 and induce.videos"),
        (["platform.stay_s=3"], "platform.stay_s moved to agent.stay_s"),
        (["agent.skip_s=9"], "agent.stay_s must be > agent.skip_s"),
        (["agent.driver=selenium"], "agent.driver='selenium' is not allowed"),
        (["+value_keywords.values.greed.keywords=[gold]"], "unknown value(s) ['greed']"),
        (["plots.axis_order=alphabetical"], "plots.axis_order='alphabetical' is not allowed"),
        (["plots.formats=[svg,png]"], "give png first"),
        (["plots.formats=[png,eps]"], "plots.formats=['png', 'eps'] is not allowed"),
        (["model=gpt4o", "probe.samples=3"],
         "model.generation.temperature=0 gives the same reply each time; set"),
        (["probe.samples=2", "model.generation.temperature=0"], "or probe.samples=1"),
        (["scoring.interval=wald"], "scoring.interval='wald' is not allowed; use one of two_stage"),
        (["scoring.circumplex=hexagon"], "use one of schwartz, shared_wedge"),
        (["scoring.circumplex_angles={greed: 0, power: 90, security: 180, hedonism: 270}"],
         "scoring.circumplex_angles names unknown values ['greed']"),
        (["scoring.n_perm=10"], "scoring.n_perm must be >= 99"),
    ],
)
def test_bad_config_is_one_clear_line(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(compose_raw(overrides))
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_folder_yaml_keeps_the_dataclass_defaults() -> None:
    from valuespectrum.config import CorpusConfig
    from valuespectrum.corpus.images import DEFAULT_MAX_FILE_BYTES

    folder = load_config(compose_raw(["corpus=folder", "corpus.path=/tmp"])).corpus
    defaults = CorpusConfig()
    for key in ("platform", "recursive", "max_pixels", "max_file_mb", "follow_symlinks"):
        assert getattr(folder, key) == getattr(defaults, key), key
    assert defaults.max_file_mb * 1_000_000 == DEFAULT_MAX_FILE_BYTES


def _run_cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "run.py", f"paths.workspace={tmp_path}/ws", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_refuses_bad_config_before_any_work(tmp_path) -> None:
    res = _run_cli("retrieve.k=0", f"hydra.run.dir={tmp_path}/out", tmp_path=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == ("error: retrieve.k=0 must be between 1 and 100")
    assert not (tmp_path / "ws").exists()


def test_cli_refuses_a_key_of_another_backend_in_one_line(tmp_path) -> None:
    res = _run_cli("model=gpt4o", "model.device=cuda", f"hydra.run.dir={tmp_path}/out",
                   tmp_path=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "error: model.device is not a setting of model=gpt4o (backend litellm); local-weights "
        "keys apply to transformers models such as model=smolvlm"
    )
    assert not (tmp_path / "ws").exists()


def test_cli_refuses_missing_corpus_folder_before_any_work(tmp_path) -> None:
    res = _run_cli(
        "corpus=folder",
        f"corpus.path={tmp_path}/nope",
        f"hydra.run.dir={tmp_path}/out",
        tmp_path=tmp_path,
    )
    assert res.returncode == 2
    assert "is not a folder; point corpus.path at a folder of images" in res.stderr
    assert not (tmp_path / "ws").exists()


def test_print_config_imports_no_heavy_library(tmp_path) -> None:
    code = (
        "import sys; sys.argv=['run.py','--cfg','job'];"
        "from valuespectrum.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('torch','open_clip','transformers','litellm','mlflow','duckdb')"
        " if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "HEAVY []" in res.stdout, res.stdout + res.stderr
    assert "workspace:" in res.stdout


def test_slurm_launcher_composes() -> None:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=["hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu"],
            return_hydra_config=True,
        )
    assert "submitit" in cfg.hydra.launcher._target_.lower()
    assert cfg.hydra.launcher.partition == "gpu"


def test_scoring_defaults_are_for_papers_and_angles_are_settings() -> None:
    cfg = load_config(compose_raw())
    assert (cfg.scoring.interval, cfg.scoring.circumplex) == ("two_stage", "schwartz")
    assert cfg.scoring.angles()["universalism"] == 324.0
    wedge = load_config(compose_raw(["scoring.circumplex=shared_wedge"])).scoring.angles()
    assert wedge["conformity"] == wedge["tradition"]
    own = load_config(compose_raw(
        ["scoring.circumplex_angles={power: 0, security: 90, hedonism: 180, tradition: 270}"]
    ))
    assert own.scoring.angles() == {"power": 0, "security": 90, "hedonism": 180, "tradition": 270}
    sampled = load_config(compose_raw(["probe.samples=3", "model.generation.temperature=0.7"]))
    assert sampled.probe.samples == 3
