"""retrieve: planted neighbours come back in order, no screenshot repeats within a value, captions
fuse in by weight, and every row carries its provenance."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from valuespectrum import runner
from valuespectrum.config import ValueEntry
from valuespectrum.report import contact_sheets
from valuespectrum.retrieval.embedding import CaptionEncoder, ClipEmbedder
from valuespectrum.retrieval.index import VectorIndex
from valuespectrum.retrieval.steps import index_files, make_embedder
from valuespectrum.stages.retrieve import sheet_header
from valuespectrum.store import ScreenshotRow, Store, ensure_workspace

DIM = 64


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _planted_workspace(cfg, *, caption_dim: int | None = None):
    """30 screenshots: ids 1-3 planted near axis 0, id 4 between axes 1 and 0, the rest noise."""
    ws = ensure_workspace(cfg.paths.workspace_path())
    store = Store(ws)
    rng = np.random.default_rng(0)
    vectors = {i: _unit(rng.normal(size=DIM)) * 0.1 for i in range(1, 31)}
    e0, e1 = np.eye(DIM, dtype=np.float32)[0], np.eye(DIM, dtype=np.float32)[1]
    vectors[1] = _unit(e0 + 0.05 * e1)
    vectors[2] = _unit(e0 + 0.30 * e1)
    vectors[3] = _unit(e0 + 0.60 * e1)
    vectors[4] = _unit(e1 + 0.50 * e0)
    vectors = {k: _unit(v) for k, v in vectors.items()}
    for i in vectors:  # retrieve checks that the images it shows exist
        Image.new("RGB", (10, 10), (i, 0, 0)).save(ws / "images" / f"{i}.png")
    with store.connect() as con:
        store.insert_screenshots(
            con,
            [
                ScreenshotRow(
                    i,
                    f"{i:064x}",
                    f"images/{i}.png",
                    None,
                    10,
                    10,
                    None,
                    None,
                    f"caption {i}",
                    None,
                    [],
                    None,
                    "folder",
                    None,
                    None,
                )
                for i in vectors
            ],
        )
    embedder = make_embedder(cfg.embedder)
    files = index_files(ws, embedder)
    index = VectorIndex.create(DIM)
    index.add(np.array(list(vectors), dtype=np.uint64), np.stack(list(vectors.values())))
    index.save(files.image)
    return ws, files, e0, e1


@pytest.fixture
def sheets(monkeypatch) -> list[dict]:
    """The header of every contact sheet the stage draws (the real drawing still happens)."""
    seen: list[dict] = []
    draw = contact_sheets.contact_sheet

    def spy(items, path, **kwargs):
        seen.append({"path": path, **kwargs})
        return draw(items, path, **kwargs)

    monkeypatch.setattr(contact_sheets, "contact_sheet", spy)
    return seen


def test_planted_neighbours_in_order_without_reuse(
    make_config, tmp_path, monkeypatch, sheets
) -> None:
    cfg = make_config(
        "stages=[retrieve]", "retrieve.k=2", "retrieve.caption_weight=0", "tracking.enabled=false"
    )
    cfg.value_keywords.values = {
        "hedonism": ValueEntry("pleasure", ["beach", "party"]),
        "power": ValueEntry("status", ["crown"]),
    }
    ws, _, e0, e1 = _planted_workspace(cfg)
    queries = {"beach": e0, "party": e0, "crown": e0 + 0.2 * e1}
    monkeypatch.setattr(
        ClipEmbedder,
        "embed_texts",
        lambda self, texts: np.stack([_unit(queries[t]) for t in texts]),
    )
    runner.run(cfg, output_dir=tmp_path / "out")
    store = Store(ws)
    with store.connect() as con:
        (run_id,) = con.execute("SELECT DISTINCT run_id FROM retrievals").fetchone()
        table = store.retrievals(con, run_id)
    got = {(r.value, r.keyword): [] for r in table.itertuples()}
    for r in table.itertuples():
        got[(r.value, r.keyword)].append(r.screenshot_id)
    assert got[("hedonism", "beach")] == [1, 2]
    assert got[("hedonism", "party")] == [3, 4]  # 1 and 2 already serve this value
    assert got[("power", "crown")] == [2, 1]  # other values may reuse them
    beach = table[table.keyword == "beach"].sort_values("rank")
    assert beach.image_score.iloc[0] == pytest.approx(float(_unit(e0 + 0.05 * e1)[0]), abs=1e-5)
    assert (table.embedder == "tiny_clip@random-seed0").all()
    assert table.index_fingerprint.nunique() == 1 and table.caption_score.isna().all()
    assert (tmp_path / "out" / "retrieval" / "contact_sheets" / "contact-hedonism.png").is_file()
    assert (tmp_path / "out" / "retrieval" / "contact_sheets" / "contact-hedonism.pdf").is_file()
    # The sheet says what ranked the thumbnails, with which model, and that it is random.
    assert len(sheets) == 2 and sheets[0]["columns"] == 2
    subtitle, warning = sheets[0]["subtitle"], sheets[0]["warning"]
    assert subtitle[0] == "score: image similarity (CLIP image vs keyword text)"
    assert subtitle[1] == "embedder: tiny_clip@random-seed0"
    assert warning.startswith("random-init CLIP") and "noise" in warning

    # Same configuration again: the rows are reused, not duplicated.
    metrics = runner.run(cfg, output_dir=tmp_path / "again")
    assert metrics["usage/retrieve/reused"] == 1
    with store.connect() as con:
        assert store.count(con, "retrievals") == 6


def test_caption_weight_moves_the_ranking(make_config, tmp_path, monkeypatch, sheets) -> None:
    cfg = make_config(
        "stages=[retrieve]", "retrieve.k=1", "retrieve.caption_weight=0.8", "tracking.enabled=false"
    )
    cfg.value_keywords.values = {"hedonism": ValueEntry("pleasure", ["beach"])}
    ws, files, e0, _ = _planted_workspace(cfg)
    caption_vectors = np.zeros((30, CaptionEncoder.dim), dtype=np.float32)
    caption_vectors[:, 5] = 1.0
    caption_vectors[3 - 1] = _unit(np.eye(CaptionEncoder.dim)[0])  # screenshot 3's caption matches
    caps = VectorIndex.create(CaptionEncoder.dim)
    caps.add(np.arange(1, 31, dtype=np.uint64), caption_vectors)
    caps.save(files.caption)
    monkeypatch.setattr(ClipEmbedder, "embed_texts", lambda self, t: np.stack([e0] * len(t)))
    monkeypatch.setattr(
        CaptionEncoder,
        "embed_texts",
        lambda self, t, batch_size=64: np.stack(
            [np.eye(CaptionEncoder.dim, dtype=np.float32)[0]] * len(t)
        ),
    )
    runner.run(cfg, output_dir=tmp_path / "out")
    with Store(ws).connect() as con:
        row = con.execute(
            "SELECT screenshot_id, caption_score, caption_encoder FROM retrievals"
        ).fetchone()
    assert row == (3, pytest.approx(1.0), "all-MiniLM-L6-v2")
    (sheet,) = sheets
    assert sheet["subtitle"] == [
        "score: fused = 0.2 image + 0.8 caption similarity to the keyword",
        "embedder: tiny_clip@random-seed0 | captions: all-MiniLM-L6-v2",
    ]
    assert "only the caption part of this score does" in sheet["warning"]


def test_sheet_header_names_pure_caption_scores_and_trusts_pretrained_weights() -> None:
    subtitle, warning = sheet_header(1.0, "ViT-B-32@laion2b", "all-MiniLM-L6-v2", "laion2b")
    assert subtitle == [
        "score: caption similarity (caption text vs keyword)",
        "embedder: ViT-B-32@laion2b | captions: all-MiniLM-L6-v2",
    ]
    assert warning is None
    _, warning = sheet_header(1.0, "tiny_clip@random-seed0", "all-MiniLM-L6-v2", None)
    assert warning and "take no part in this ranking" in warning


def test_retrieve_without_index_says_what_to_run(make_config, tmp_path) -> None:
    cfg = make_config("stages=[retrieve]", "tracking.enabled=false")
    with pytest.raises(FileNotFoundError, match="run the index stage first"):
        runner.run(cfg, output_dir=tmp_path / "out")
