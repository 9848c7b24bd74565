"""The HTTP API: validated JSON, nothing outside the catalog served, refusals change nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.feed.conftest import synthetic_catalog
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.app import MAX_BODY_BYTES, create_app
from valuespectrum.feed.session import Feed


@pytest.fixture
def catalog(tmp_path):
    images = tmp_path / "ws" / "images"
    images.mkdir(parents=True)
    (tmp_path / "ws" / "secret.txt").write_text("not a catalog item")
    return synthetic_catalog(2, image_dir=images)


def _client(catalog, *, debug: bool = False) -> tuple[Feed, TestClient]:
    feed = Feed(catalog, RecommenderConfig(), debug=debug)
    client = TestClient(create_app(feed), base_url="http://127.0.0.1")
    assert client.post("/api/sessions", json={"session_id": "s", "seed": 3}).status_code == 201
    return feed, client


def _next(client) -> dict:
    res = client.get("/api/sessions/s/next")
    assert res.status_code == 200, res.text
    return res.json()


def test_a_session_over_http(catalog) -> None:
    feed, client = _client(catalog)
    first = _next(client)
    item = catalog.by_id(int(first["item"]["item_id"]))
    assert first["position"] == 0
    assert first["item"] == {
        "item_id": str(item.item_id), "media": f"/media/{item.item_id}", "caption": item.caption,
        "author": item.author, "hashtags": list(item.hashtags), "likes": item.likes,
        "comments": item.comments,
    }  # no value labels, no file paths
    assert "debug" not in first
    posted = client.post("/api/sessions/s/impressions",
                         json={"position": 0, "item_id": first["item"]["item_id"],
                               "dwell_ms": 4200})
    assert posted.status_code == 201
    assert posted.json()["item_id"] == str(item.item_id) and posted.json()["stayed"] is True
    log = client.get("/api/sessions/s/impressions").json()["impressions"]
    assert [(r["position"], int(r["item_id"]), r["dwell_ms"]) for r in log] == [
        (0, item.item_id, 4200)]
    assert feed.impressions("s")[0].dwell_ms == 4200
    assert _next(client)["position"] == 1


def test_media_serves_catalog_items_only(catalog) -> None:
    _, client = _client(catalog)
    item = catalog.items[3]
    res = client.get(f"/media/{item.item_id}")
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    assert res.content == item.image_path.read_bytes()
    for path in ("/media/12345", "/media/-1", "/media/1.5", f"/media/{item.item_id}.png",
                 "/media/..%2Fsecret.txt", "/media/..%2F..%2Fsecret.txt",
                 "/media/%2e%2e%2f%2e%2e%2fsecret.txt", "/media/../secret.txt",
                 "/media/..%5C..%5Csecret.txt", f"/media/{item.item_id}%2F..%2F..%2Fsecret.txt",
                 "/media/%EF%BC%91", "/static/..%2Fapp.py", "/static/../app.py",
                 "/static/index.html", "/secret.txt", "/media/", "/etc/passwd"):
        res = client.get(path)
        assert res.status_code == 404, path
        assert b"not a catalog item" not in res.content


def test_an_item_whose_file_vanished_is_404(catalog) -> None:
    _, client = _client(catalog)
    item = catalog.items[0]
    item.image_path.unlink()
    assert client.get(f"/media/{item.item_id}").status_code == 404


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'"x"', b"{}",
    b'{"position": 0, "item_id": "ID", "dwell_ms": 1, "extra": 1}',
    b'{"position": 0, "item_id": "ID", "dwell_ms": -1}',
    b'{"position": 0, "item_id": "ID", "dwell_ms": 1.5}',
    b'{"position": 0, "item_id": "ID", "dwell_ms": true}',
    b'{"position": 0, "item_id": "ID", "dwell_ms": 99999999999}',
    b'{"position": "0", "item_id": "ID", "dwell_ms": 1}',
    b'{"position": 0, "item_id": "0x1f", "dwell_ms": 1}',
])
def test_malformed_events_get_422_and_change_nothing(catalog, body) -> None:
    feed, client = _client(catalog)
    item_id = _next(client)["item"]["item_id"]
    res = client.post("/api/sessions/s/impressions", content=body.replace(b"ID", item_id.encode()),
                      headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text
    assert feed.impressions("s") == []


def test_out_of_order_out_of_session_and_unknown_items_get_4xx(catalog) -> None:
    feed, client = _client(catalog)
    item_id = _next(client)["item"]["item_id"]
    other = next(str(i.item_id) for i in catalog.items if str(i.item_id) != item_id)
    cases = [
        ("/api/sessions/s/impressions", {"position": 1, "item_id": item_id, "dwell_ms": 1}, 409),
        ("/api/sessions/s/impressions", {"position": 0, "item_id": other, "dwell_ms": 1}, 409),
        ("/api/sessions/s/impressions", {"position": 0, "item_id": "42", "dwell_ms": 1}, 404),
        ("/api/sessions/nobody/impressions", {"position": 0, "item_id": item_id, "dwell_ms": 1},
         404),
        ("/api/sessions/..%2Fs/impressions", {"position": 0, "item_id": item_id, "dwell_ms": 1},
         404),
        ("/api/sessions", {"session_id": "s", "seed": 4}, 409),
        ("/api/sessions", {"session_id": "../etc", "seed": 4}, 422),
        ("/api/sessions", {"session_id": "ok", "seed": -4}, 422),
        ("/api/sessions", {"session_id": "ok", "seed": 1, "debug": True}, 422),
    ]
    for path, body, status in cases:
        res = client.post(path, json=body)
        assert res.status_code == status, (path, body, res.text)
        assert feed.impressions("s") == [] and feed.session_ids() == ["s"]
    assert client.get("/api/sessions/nobody/next").status_code == 404
    assert client.get("/api/sessions/nobody/impressions").status_code == 404


def test_oversized_bodies_get_413_and_change_nothing(catalog) -> None:
    feed, client = _client(catalog)
    item_id = _next(client)["item"]["item_id"]
    padded = json.dumps({"position": 0, "item_id": item_id, "dwell_ms": 1,
                         "pad": "x" * MAX_BODY_BYTES})
    res = client.post("/api/sessions/s/impressions", content=padded,
                      headers={"content-type": "application/json"})
    assert res.status_code == 413
    chunks = (b"x" * 4096 for _ in range(8))  # no Content-Length: counted while read
    res = client.post("/api/sessions/s/impressions", content=chunks,
                      headers={"content-type": "application/json"})
    assert res.status_code == 413
    res = client.post("/api/sessions", content=b"{}",
                      headers={"content-type": "application/json", "content-length": "abc"})
    assert res.status_code == 413
    assert feed.impressions("s") == [] and feed.session_ids() == ["s"]


def test_only_loopback_host_headers_are_answered(catalog) -> None:
    _, client = _client(catalog)
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_the_page_and_its_assets(catalog) -> None:
    _, client = _client(catalog)
    page = client.get("/?session=s")
    assert page.status_code == 200 and 'id="vs-item"' in page.text
    js = client.get("/static/feed.js")
    assert js.status_code == 200 and "window.vsFeed" in js.text
    assert client.get("/static/feed.css").status_code == 200


def test_the_debug_panel_needs_a_debug_feed_and_debug_1(catalog) -> None:
    _, plain = _client(catalog)
    assert "debug" not in plain.get("/api/sessions/s/next?debug=1").json()
    _, debug = _client(catalog, debug=True)
    assert "debug" not in debug.get("/api/sessions/s/next").json()
    shown = debug.get("/api/sessions/s/next?debug=1").json()["debug"]
    assert shown["explored"] is True and shown["score"] is None
    assert shown["reason"] == "cold start: random item"
    assert shown["state"]["next_position"] == 1 and shown["state"]["kind"] == "embedding"
    assert len(shown["values"]) == 1
