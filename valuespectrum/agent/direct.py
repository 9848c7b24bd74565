"""The direct driver: the local feed in-process, for fast sweeps.

No page and no real waiting: the dwell the agent chooses is reported to the feed as the
impression's dwell, not slept. Each item's image is the screenshot file encoded as the probe
encodes it (JPEG, ``induce.image_max_side``), kept in ``<workspace>/encoded/`` and in memory,
so a step costs the recommender's pick and a dictionary look-up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from valuespectrum.agent.loop import Impression, Logged, View
from valuespectrum.models.base import ImagePart
from valuespectrum.probe.encoding import encoded_folder
from valuespectrum.probe.prompts import encode_image


class ItemImages:
    """Item id -> the encoded image sent to the model, encoded once per workspace."""

    def __init__(self, catalog, workspace: Path, max_side: int | None) -> None:
        self.catalog, self.max_side = catalog, max_side
        self.folder = encoded_folder(workspace, max_side)
        self._parts: dict[int, ImagePart] = {}
        self._lock = threading.Lock()

    def prefetch(self) -> threading.Thread:
        """Read (or encode) every item's image in a background thread, so no step waits on the
        disk; a step that comes first reads its own."""

        def read_all() -> None:
            for item in self.catalog.items:
                self.get(item.item_id)

        thread = threading.Thread(target=read_all, name="item-images", daemon=True)
        thread.start()
        return thread

    def get(self, item_id: int) -> ImagePart:
        part = self._parts.get(item_id)
        if part is not None:
            return part
        item = self.catalog.by_id(item_id)
        path = Path(item.image_path)
        cached = self.folder / f"{_file_sha(path)}.jpg"
        if cached.exists():
            part = ImagePart(cached.read_bytes())
        else:
            part = encode_image(path, max_side=self.max_side)
            tmp = cached.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(part.data)
            os.replace(tmp, cached)
        with self._lock:
            self._parts[item_id] = part
        return part


def _file_sha(path: Path) -> str:
    """Workspace images are named by the sha256 of the original file (images/ab/<sha>.png),
    which is also how the probe names its encoded copies."""
    return path.stem


class DirectDriver:
    """One session of a :class:`~valuespectrum.feed.session.Feed`, driven in-process."""

    def __init__(self, feed, images: ItemImages) -> None:
        self.feed, self.images = feed, images
        self.session_id = ""

    async def open(self, session_id: str, seed: int, replay: Sequence[Impression]) -> None:
        self.session_id = session_id
        self.feed.open_session(session_id, seed)
        replay_on(self.feed, session_id, replay)

    async def look(self) -> View:
        served = self.feed.next_item(self.session_id)
        item_id = served.item_id

        async def image() -> ImagePart:
            return self.images.get(item_id)

        return View(served.position, item_id, image)

    async def pause(self) -> None:
        return None

    async def resume(self) -> None:
        return None

    async def act(self, view: View, stay: bool, dwell_ms: int) -> Logged:
        from valuespectrum.feed.session import ImpressionEvent

        event = ImpressionEvent(position=view.position, item_id=view.item_id, dwell_ms=dwell_ms)
        r = self.feed.record(self.session_id, event)
        return Logged(r.dwell_ms, r.score, r.explored, r.reason)

    async def close(self) -> None:
        return None


class ReplayMismatch(RuntimeError):
    """A stored session that the feed no longer serves the same way."""


def replay_on(feed, session_id: str, replay: Sequence[Impression]) -> None:
    """Serve and record the stored impressions again, checking each item is the one stored."""
    from valuespectrum.feed.session import ImpressionEvent

    for imp in replay:
        served = feed.next_item(session_id)
        if (served.position, served.item_id) != (imp.position, imp.item_id):
            raise ReplayMismatch(
                f"session {session_id} does not replay: position {imp.position} served item "
                f"{served.item_id}, stored {imp.item_id}; the corpus or the recommender changed "
                "under the same settings (delete its rows from sessions/impressions to redo it)"
            )
        feed.record(
            session_id,
            ImpressionEvent(position=imp.position, item_id=imp.item_id, dwell_ms=imp.dwell_ms),
        )
