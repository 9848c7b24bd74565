"""The feed's HTTP face: a FastAPI app over a :class:`~valuespectrum.feed.session.Feed`.

JSON API (bodies validated by pydantic; a refused request changes nothing):

- ``POST /api/sessions`` ``{session_id, seed}`` -> 201 ``{session_id, seed}``
- ``GET /api/sessions/{sid}/next[?debug=1]`` -> ``{session_id, position, item, debug?}``
- ``POST /api/sessions/{sid}/impressions`` ``{position, item_id, dwell_ms}`` -> 201 the record
- ``GET /api/sessions/{sid}/impressions`` -> ``{session_id, impressions: [...]}``
- ``GET /media/{item_id}`` -> the item's PNG: ids only, never paths, so nothing outside the
  catalog can be served
- ``GET /?session=SID[&debug=1]`` -> the page (``/static/feed.js``, ``/static/feed.css``)

Item ids are 60-bit integers, beyond JavaScript's exact range (2**53), so every JSON answer
writes them as decimal strings (``"item_id": "880193317477566004"``); impressions accept the
string or an integer.

Bodies over ``max_body_bytes`` are refused with 413, by their Content-Length before reading and
by the bytes actually read otherwise (chunked uploads). Only loopback Host headers are answered
(a DNS-rebinding page cannot reach the feed) unless ``allowed_hosts`` says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware

from valuespectrum.feed.catalog import FeedItem
from valuespectrum.feed.session import (
    SESSION_ID,
    Feed,
    FeedError,
    ImpressionEvent,
    ImpressionRecord,
    SessionRequest,
)

MAX_BODY_BYTES = 16_384
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
STATIC = {"feed.js": "text/javascript", "feed.css": "text/css"}
NO_STORE = {"Cache-Control": "no-store"}

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, before the endpoint sees any of it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        chunks, total, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Callable, max_bytes: int) -> None:
    body = json.dumps({"detail": f"request body over {max_bytes} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def item_json(item: FeedItem) -> dict[str, Any]:
    """What the page shows of an item. File paths never leave the server, value labels only
    in the debug panel's data (a Feed built with ``debug=True``, asked with ``?debug=1``)."""
    return {"item_id": str(item.item_id), "media": f"/media/{item.item_id}",
            "caption": item.caption, "author": item.author, "hashtags": list(item.hashtags),
            "likes": item.likes, "comments": item.comments}


def record_json(record: ImpressionRecord) -> dict[str, Any]:
    out = asdict(record)
    out["item_id"] = str(record.item_id)
    out["served_at"] = record.served_at.isoformat()
    out["recorded_at"] = record.recorded_at.isoformat()
    return out


def create_app(
    feed: Feed, *, max_body_bytes: int = MAX_BODY_BYTES,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> Any:
    """The ASGI app serving ``feed`` (FastAPI inside the body-size and Host guards)."""
    app = FastAPI(title="valuespectrum local feed", docs_url=None, redoc_url=None,
                  openapi_url=None)
    static = resources.files("valuespectrum.feed") / "static"
    page = (static / "index.html").read_text(encoding="utf-8")
    assets = {name: (static / name).read_bytes() for name in STATIC}

    @app.exception_handler(FeedError)
    async def _feed_error(_: Request, exc: FeedError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=NO_STORE)

    def _sid(sid: str) -> str:
        if not SESSION_ID.fullmatch(sid):
            raise FeedError(404, "no such session (bad session id)")
        return sid

    @app.post("/api/sessions", status_code=201)
    def open_session(body: SessionRequest) -> JSONResponse:
        feed.open_session(body.session_id, body.seed)
        return JSONResponse({"session_id": body.session_id, "seed": body.seed},
                            status_code=201, headers=NO_STORE)

    @app.get("/api/sessions/{sid}/next")
    def next_item(sid: str, debug: int = 0) -> JSONResponse:
        served = feed.next_item(_sid(sid))
        out: dict[str, Any] = {"session_id": sid, "position": served.position,
                               "item": item_json(feed.catalog.by_id(served.item_id))}
        if debug and feed.debug:
            out["debug"] = {"score": served.score, "explored": served.explored,
                            "reason": served.reason, "state": feed.debug_state(sid),
                            "values": list(feed.catalog.by_id(served.item_id).values)}
        return JSONResponse(out, headers=NO_STORE)

    @app.post("/api/sessions/{sid}/impressions", status_code=201)
    def record(sid: str, body: ImpressionEvent) -> JSONResponse:
        return JSONResponse(record_json(feed.record(_sid(sid), body)), status_code=201,
                            headers=NO_STORE)

    @app.get("/api/sessions/{sid}/impressions")
    def impressions(sid: str) -> JSONResponse:
        rows = [record_json(r) for r in feed.impressions(_sid(sid))]
        return JSONResponse({"session_id": sid, "impressions": rows}, headers=NO_STORE)

    @app.get("/media/{item_id}")
    def media(item_id: str) -> FileResponse:
        if not item_id.isascii() or not item_id.isdigit() or int(item_id) not in feed.catalog:
            raise FeedError(404, "no such item")
        path = feed.catalog.by_id(int(item_id)).image_path
        if not path.is_file():
            raise FeedError(404, f"item {item_id} has no image on disk")
        return FileResponse(path, media_type="image/png")

    @app.get("/")
    def index() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=NO_STORE)

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        if name not in assets:
            raise FeedError(404, "no such file")
        return Response(assets[name], media_type=STATIC[name])

    guarded = TrustedHostMiddleware(app, allowed_hosts=list(allowed_hosts))
    return BodyLimit(guarded, max_body_bytes)
