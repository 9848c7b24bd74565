"""The layout rules of the package, checked on its source: what may import what."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "valuespectrum"

# Science code: pure logic a reader can trust without knowing where data lives.
SCIENCE = ("probe/prompts.py", "probe/parsing.py", "probe/lexicon.py", "probe/judge.py",
           "probe/plan.py", "probe/costplan.py", "probe/scoring.py", "probe/results.py",
           "probe/summary.py", "probe/options.py", "probe/axes.py", "probe/checks.py", "stats/",
           "induce/")
FORBIDDEN_FOR_SCIENCE = ("valuespectrum.store", "valuespectrum.tracking", "valuespectrum.stages",
                         "valuespectrum.runner", "mlflow", "duckdb")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_no_stage_imports_another_stage() -> None:
    bad = []
    for path in (PACKAGE / "stages").glob("*.py"):
        own = f"valuespectrum.stages.{path.stem}"
        for name in _imports(path):
            other_stage = name.startswith("valuespectrum.stages.") and not name.startswith(own)
            if other_stage:
                bad.append(f"{_rel(path)} imports {name}")
    assert not bad, bad


def test_science_code_imports_no_store_tracker_or_stage() -> None:
    science = [p for p in _modules() if _rel(p).startswith(SCIENCE)]
    assert len(science) >= 6, "the science modules moved; update SCIENCE"
    bad = {
        _rel(p): sorted(n for n in _imports(p) if n.startswith(FORBIDDEN_FOR_SCIENCE))
        for p in science
    }
    assert not {k: v for k, v in bad.items() if v}


def test_only_the_registry_branches_on_backend_names() -> None:
    bad = []
    for path in _modules():
        if _rel(path) == "models/registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(s, ast.Attribute) and s.attr == "backend" for s in sides):
                    bad.append(f"{_rel(path)}:{node.lineno}")
    assert not bad, f"backend-name branches outside models/registry.py: {bad}"


def test_only_tracking_imports_mlflow() -> None:
    bad = [_rel(p) for p in _modules()
           if _rel(p) != "tracking.py" and any(n.startswith("mlflow") for n in _imports(p))]
    assert not bad, bad


def test_no_module_over_400_lines() -> None:
    long = {_rel(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_room_for_the_role_play_half() -> None:
    for name in ("induce", "feed", "agent"):
        assert (PACKAGE / name / "__init__.py").is_file(), name
