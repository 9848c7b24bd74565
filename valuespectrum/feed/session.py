"""The in-process feed: many sessions over one catalog, each with its own seeded recommender.

A session serves positions 0, 1, 2, ... in order. ``next_item`` serves the item of the next
position, or, while the last served item has no impression yet, that same item again (a page
reload must not skip a position). ``record`` accepts exactly one impression per served
position, in order, naming the item served there; anything else is a :class:`FeedError` with an
HTTP status and changes nothing. Every method is thread-safe: the page, the agent's drivers and
the HTTP server's threads may share one Feed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.catalog import Catalog
from valuespectrum.feed.recommender import CatalogExhausted, Recommender, Served, make_recommender

MAX_DWELL_MS = 3_600_000  # an hour on one item: beyond that the page was left open
MAX_ID = 2**63 - 1  # DuckDB BIGINT
MAX_SESSIONS = 10_000
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


class FeedError(Exception):
    """A request the feed refuses; ``status`` is the HTTP status the app answers with
    (404 unknown session or item, 409 out of order or a conflicting session, 410 nothing left
    to serve, 422 malformed, 429 too many sessions)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _digits(value: Any) -> Any:
    """Item ids are 60-bit, past JavaScript's exact integers (2**53), so JSON carries them as
    decimal strings; a string of 1-19 ASCII digits becomes the int, anything else stays as is
    (and strict validation then refuses floats, bools and other strings)."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            raise ValueError("item_id must be an integer or a string of digits")
        return int(value)
    return value


ItemId = Annotated[int, BeforeValidator(_digits), Field(ge=0, le=MAX_ID)]


class ImpressionEvent(BaseModel):
    """What the page (or a driver) reports after an item: its position, item and dwell.

    ``item_id`` may be an int or its decimal string (what the HTTP API sends: see ``_digits``).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    position: int = Field(ge=0, le=MAX_ID)
    item_id: ItemId
    dwell_ms: int = Field(ge=0, le=MAX_DWELL_MS)


class SessionRequest(BaseModel):
    """Open a session: its id (letters, digits, ``_.:-``; up to 128) and recommender seed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    session_id: str = Field(pattern=f"^{SESSION_ID.pattern}$", max_length=128)
    seed: int = Field(ge=0, le=MAX_ID)


@dataclass(frozen=True)
class ImpressionRecord:
    """One recorded impression with the reason its item was served."""

    position: int
    item_id: int
    dwell_ms: int
    stayed: bool  # dwell_ms >= recommender.long_watch_ms
    score: float | None
    explored: bool
    reason: str
    served_at: datetime
    recorded_at: datetime


class _Session:
    def __init__(self, seed: int, recommender: Recommender) -> None:
        self.seed = seed
        self.recommender = recommender
        self.lock = threading.Lock()
        self.served: list[tuple[Served, datetime]] = []
        self.records: list[ImpressionRecord] = []
        self.state_at_serve: dict[str, Any] = {}


class Feed:
    """Sessions over one catalog. ``debug=True`` lets the page's debug panel see the reasons."""

    def __init__(
        self, catalog: Catalog, recommender_cfg: RecommenderConfig, *, debug: bool = False,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        recommender_cfg.check()
        self.catalog = catalog
        self.recommender_cfg = recommender_cfg
        self.debug = debug
        self.max_sessions = max_sessions
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def open_session(self, session_id: str, seed: int) -> None:
        """Start a session; opening it again with the same seed is a no-op, another seed 409."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            raise FeedError(422, "session_id must be 1-128 letters, digits or _.:- "
                                 "(starting with a letter or digit)")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_ID:
            raise FeedError(422, f"seed must be an integer in [0, {MAX_ID}]")
        with self._lock:
            known = self._sessions.get(session_id)
            if known is not None:
                if known.seed != seed:
                    raise FeedError(409, f"session {session_id!r} is open with another seed")
                return
            if len(self._sessions) >= self.max_sessions:
                raise FeedError(429, f"the feed holds {self.max_sessions} sessions already")
            recommender = make_recommender(self.recommender_cfg, self.catalog, seed)
            self._sessions[session_id] = _Session(seed, recommender)

    def has_session(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._sessions

    def session_ids(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def next_item(self, session_id: str) -> Served:
        """Serve the next position (or the pending one again until its impression arrives)."""
        s = self._session(session_id)
        with s.lock:
            if len(s.served) > len(s.records):
                return s.served[-1][0]
            try:
                served = s.recommender.next()
            except CatalogExhausted as exc:
                raise FeedError(410, f"session {session_id!r}: {exc}") from None
            s.served.append((served, datetime.now(UTC)))
            if self.debug:
                s.state_at_serve = s.recommender.state()
            return served

    def record(self, session_id: str, event: ImpressionEvent) -> ImpressionRecord:
        """Record the impression of the served item at ``event.position``; the recommender
        learns from its dwell. Refused (and nothing changes) unless it is the next one due."""
        if not isinstance(event, ImpressionEvent):
            raise FeedError(422, "an impression must be an ImpressionEvent")
        s = self._session(session_id)
        if event.item_id not in self.catalog:
            raise FeedError(404, f"item {event.item_id} is not in the catalog")
        with s.lock:
            due = len(s.records)
            if event.position != due or due >= len(s.served):
                served = "nothing" if due >= len(s.served) else f"position {due}"
                raise FeedError(409, f"impression for position {event.position} is out of order; "
                                     f"the next impression due is for {served} (GET next first)")
            served, served_at = s.served[due]
            if event.item_id != served.item_id:
                raise FeedError(409, f"position {due} served item {served.item_id}, "
                                     f"not {event.item_id}")
            s.recommender.observe(event.item_id, event.dwell_ms)
            record = ImpressionRecord(
                position=due, item_id=served.item_id, dwell_ms=event.dwell_ms,
                stayed=event.dwell_ms >= self.recommender_cfg.long_watch_ms,
                score=served.score, explored=served.explored, reason=served.reason,
                served_at=served_at, recorded_at=datetime.now(UTC),
            )
            s.records.append(record)
            return record

    def impressions(self, session_id: str) -> list[ImpressionRecord]:
        s = self._session(session_id)
        with s.lock:
            return list(s.records)

    def debug_state(self, session_id: str) -> dict[str, Any]:
        """The recommender's state when the current item was served (``debug=True`` only)."""
        if not self.debug:
            raise FeedError(404, "the feed runs without debug")
        s = self._session(session_id)
        with s.lock:
            return dict(s.state_at_serve)

    def _session(self, session_id: str) -> _Session:
        with self._lock:
            s = self._sessions.get(session_id)
        if s is None:
            raise FeedError(404, f"no session {session_id!r}; open it first "
                                 "(POST /api/sessions or Feed.open_session)")
        return s
