"""The catalog: the corpus's screenshots with fused image + caption vectors from the indexes the
index stage built, value labels from the demo theme or the caller, and one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest

from tests.feed.conftest import unit
from valuespectrum import runner
from valuespectrum.feed.catalog import (
    Catalog,
    CatalogUnavailable,
    FeedItem,
    catalog_from_workspace,
    fuse,
    pseudo_counts,
)
from valuespectrum.retrieval.steps import index_files, make_embedder
from valuespectrum.store import ScreenshotRow, Store


def test_catalog_from_a_demo_workspace(demo) -> None:
    cfg, ws, store, ids, image, caption = demo
    catalog = catalog_from_workspace(store, ws, cfg.embedder, caption_weight=0.8)
    with store.connect() as con:
        rows = {r.id: r for r in store.screenshots(con)}
    assert [item.item_id for item in catalog.items] == sorted(ids.tolist())
    for item in catalog.items:
        row = rows[item.item_id]
        assert item.image_path == ws / row.file_path and item.image_path.is_file()
        assert (item.caption, item.author, item.hashtags) == (
            row.caption, row.author, tuple(row.hashtags))
        assert item.values == (row.theme,) and row.theme
        assert (item.likes, item.comments) == pseudo_counts(item.item_id)
    order = [int(np.where(ids == item.item_id)[0][0]) for item in catalog.items]
    sims = catalog.embeddings @ catalog.embeddings.T
    expected = 0.2 * (image[order] @ image[order].T) + 0.8 * (caption[order] @ caption[order].T)
    assert np.allclose(sims, expected, atol=1e-5)  # the weighted mix of the two cosines
    assert np.allclose(np.linalg.norm(catalog.embeddings, axis=1), 1.0, atol=1e-6)
    images_only = catalog_from_workspace(store, ws, cfg.embedder, caption_weight=0.0)
    assert np.allclose(images_only.embeddings @ images_only.embeddings.T,
                       image[order] @ image[order].T, atol=1e-5)


def test_labels_are_used_where_the_corpus_has_no_theme(demo) -> None:
    cfg, ws, store, ids, *_ = demo
    with store.connect() as con:
        con.execute("UPDATE screenshots SET theme = NULL WHERE id = ?", [int(ids[0])])
        con.execute("UPDATE screenshots SET theme = NULL WHERE id = ?", [int(ids[1])])
    labels = {int(ids[0]): ("power", "achievement")}
    catalog = catalog_from_workspace(store, ws, cfg.embedder, labels)
    assert catalog.by_id(int(ids[0])).values == ("power", "achievement")
    assert catalog.by_id(int(ids[1])).values == ()  # neither a theme nor a label
    assert catalog_from_workspace(store, ws, cfg.embedder).by_id(int(ids[0])).values == ()


def test_a_workspace_not_indexed_is_said_in_one_line(demo) -> None:
    cfg, ws, store, *_ = demo
    files = index_files(ws, make_embedder(cfg.embedder))
    row = ScreenshotRow(7, "f" * 64, "images/x.png", None, 9, 16, None, None, "c", None, [], None,
                        "folder", None, None)
    with store.connect() as con:
        store.insert_screenshots(con, [row])
    with pytest.raises(CatalogUnavailable, match=r"1 of 13 screenshots have no image vector.*"
                                                 r"stages=\[collect,index\]"):
        catalog_from_workspace(store, ws, cfg.embedder)
    files.caption.unlink()
    with store.connect() as con:
        con.execute("DELETE FROM screenshots WHERE id = 7")
    with pytest.raises(CatalogUnavailable, match="caption_weight=0"):
        catalog_from_workspace(store, ws, cfg.embedder)
    files.image.unlink()
    with pytest.raises(CatalogUnavailable, match=r"no image index .*stages=\[collect,index\]"):
        catalog_from_workspace(store, ws, cfg.embedder)


def _item(item_id: int) -> FeedItem:
    return FeedItem(item_id, None, "", "", (), 0, 0, ())  # type: ignore[arg-type]


def test_a_catalog_normalises_rows_and_finds_items_by_id() -> None:
    catalog = Catalog((_item(5), _item(9)), np.array([[3.0, 4.0], [0.0, 2.0]]))
    assert np.allclose(catalog.embeddings, [[0.6, 0.8], [0.0, 1.0]])
    assert catalog.embeddings.dtype == np.float32 and not catalog.embeddings.flags.writeable
    assert catalog.index_of(9) == 1 and catalog.by_id(5).item_id == 5 and 9 in catalog
    with pytest.raises(KeyError, match="not in the catalog"):
        catalog.by_id(6)
    with pytest.raises(ValueError, match="one row per item"):
        Catalog((_item(5),), np.ones((2, 3)))
    with pytest.raises(ValueError, match="unique"):
        Catalog((_item(5), _item(5)), np.ones((2, 3)))


def test_fusion_mixes_cosines_by_weight_and_survives_a_missing_caption() -> None:
    rng = np.random.default_rng(1)
    image, caption = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    caption[2:] = 0.0  # no caption
    fused = fuse(image, caption, 0.3)
    ui, uc = unit(image), unit(caption[:2])
    assert np.allclose(fused[:2] @ fused[:2].T, 0.7 * ui[:2] @ ui[:2].T + 0.3 * uc @ uc.T,
                       atol=1e-5)
    # a captionless row is its image vector: the image cosine between two of them, and that
    # cosine weighted by sqrt(1 - w) against a captioned row
    assert fused[3] @ fused[2] == pytest.approx(ui[3] @ ui[2], abs=1e-5)
    assert fused[3] @ fused[0] == pytest.approx(np.sqrt(0.7) * ui[3] @ ui[0], abs=1e-5)


def test_pseudo_counts_are_deterministic_and_plausible() -> None:
    counts = [pseudo_counts(i) for i in range(2000)]
    assert counts == [pseudo_counts(i) for i in range(2000)]
    likes = np.array([c[0] for c in counts])
    assert likes.min() >= 10 and likes.max() <= 2_000_000 and len(set(likes)) > 1500
    assert all(0 <= c <= likes_ * 0.05 for likes_, c in counts)


@pytest.mark.slow
def test_the_index_stage_s_vectors_let_the_feed_learn_a_demo_theme(make_config, tmp_path) -> None:
    """Real collect + index (tiny CLIP, MiniLM captions): same-theme items are neighbours, and a
    viewer who stays on one theme is served it far above its base rate."""
    from valuespectrum.config.roleplay import RecommenderConfig
    from valuespectrum.feed.recommender import make_recommender

    cfg = make_config("stages=[collect,index]", "corpus.n=200", "tracking.enabled=false")
    runner.run(cfg, output_dir=tmp_path / "out")
    ws = cfg.paths.workspace_path()
    catalog = catalog_from_workspace(Store(ws), ws, cfg.embedder, caption_weight=0.8)
    assert len(catalog) == 200
    theme = np.array([item.values[0] for item in catalog.items])
    sims = catalog.embeddings @ catalog.embeddings.T
    same = theme[:, None] == theme[None, :]
    off = ~same
    np.fill_diagonal(same, False)
    assert sims[same].mean() > sims[off].mean() + 0.05
    shares = []
    for target in sorted(set(theme)):
        for seed in range(3):
            rec = make_recommender(RecommenderConfig(), catalog, seed)
            hits = []
            for _ in range(18):  # fewer than the ~20 items of a theme
                s = rec.next()
                hits.append(catalog.by_id(s.item_id).values[0] == target)
                rec.observe(s.item_id, 5000 if hits[-1] else 300)
            shares.append(np.mean(hits[9:]))
    assert np.mean(shares) > 0.3  # base rate 0.1
