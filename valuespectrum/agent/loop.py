"""The agent loop, the same for every feed: look at the current item, decide as the persona,
stay (the dwell the feed sees is ``agent.stay_s``) or swipe (``agent.skip_s``).

A driver puts the loop on a feed (``direct``: the local feed in-process; ``browser``: the real
page in Chromium). A session resumes where its stored impressions end: the driver replays them
first (the recommender is seeded, so the same dwell sequence restores its state) and the loop
asks the model only from the first position without an impression. A step whose call got no
answer (after the call runner's retries) ends the session as ``failed``: the feed is never told
a swipe the persona did not decide, and the next run asks that step again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from valuespectrum.models.base import ImagePart


@dataclass(frozen=True)
class View:
    """The item a driver shows at ``position``, and how to take the image the model sees."""

    position: int
    item_id: int
    image: Callable[[], Awaitable[ImagePart]]


@dataclass(frozen=True)
class Impression:
    """One step of a session as stored (``impressions`` table, minus the session id)."""

    position: int
    item_id: int
    outcome: str  # yes | no | invalid
    stayed: bool
    score_pct: float | None
    fields: dict[str, Any]
    parse_reason: str
    dwell_ms: int
    rec_score: float | None
    explored: bool
    reason: str
    values: tuple[str, ...]
    fingerprint: str


@dataclass(frozen=True)
class Logged:
    """What the feed recorded of an impression: the dwell it measured, why it served the item."""

    dwell_ms: int
    score: float | None
    explored: bool
    reason: str


class Driver(Protocol):
    """Puts the loop on one feed session."""

    async def open(self, session_id: str, seed: int, replay: Sequence[Impression]) -> None:
        """Start the session and replay ``replay`` (stored impressions, by position)."""
        ...

    async def look(self) -> View: ...
    async def pause(self) -> None:
        """Stop the feed's dwell clock while the model thinks (where the feed has one)."""
        ...

    async def resume(self) -> None: ...
    async def act(self, view: View, stay: bool, dwell_ms: int) -> Logged:
        """Stay ``dwell_ms`` or swipe after it; return what the feed logged."""
        ...

    async def close(self) -> None: ...


class StepFailed(Exception):
    """The model gave no answer for a step (an API failure: never a "no")."""


@dataclass(frozen=True)
class Answer:
    """What the persona decided about one item, and the call it came from."""

    stay: bool | None  # None: invalid reply, treated as a skip and counted
    outcome: str
    score_pct: float | None
    fields: dict[str, Any]
    parse_reason: str
    fingerprint: str


Decide = Callable[[ImagePart, int], Awaitable[Answer]]


@dataclass
class SessionResult:
    session_id: str
    status: str = "running"  # complete | failed
    replayed: int = 0
    asked: int = 0
    invalid: int = 0
    failed: int = 0
    error: str | None = None
    impressions: list[Impression] = field(default_factory=list)


async def run_session(
    session_id: str,
    seed: int,
    videos: int,
    driver: Driver,
    decide: Decide,
    stored: Sequence[Impression],
    *,
    values_of: Callable[[int], tuple[str, ...]],
    stay_ms: int,
    skip_ms: int,
    on_impression: Callable[[Impression], None],
) -> SessionResult:
    """Drive one session to ``videos`` impressions, resuming after ``stored``."""
    prefix = list(stored[:videos])
    result = SessionResult(session_id, replayed=len(prefix), impressions=list(prefix))
    await driver.open(session_id, seed, prefix)
    try:
        for _ in range(len(prefix), videos):
            view = await driver.look()
            image = await view.image()
            await driver.pause()
            try:
                answer = await decide(image, view.item_id)
            except StepFailed as exc:
                result.status, result.failed, result.error = "failed", 1, str(exc)[:300]
                return result
            finally:
                await driver.resume()
            stay = answer.stay is True
            result.asked += 1
            result.invalid += int(answer.stay is None)
            logged = await driver.act(view, stay, stay_ms if stay else skip_ms)
            impression = Impression(
                view.position, view.item_id, answer.outcome, stay, answer.score_pct,
                answer.fields, answer.parse_reason, logged.dwell_ms, logged.score,
                logged.explored, logged.reason, values_of(view.item_id), answer.fingerprint,
            )
            result.impressions.append(impression)
            on_impression(impression)
    finally:
        await driver.close()
    result.status = "complete"
    return result
