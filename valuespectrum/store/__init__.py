"""The DuckDB workspace store: schema, one module of SQL per domain, the workspace lock.

Every statement binds its parameters; no stage writes SQL of its own.
"""

from valuespectrum.store.corpus import ScreenshotRow
from valuespectrum.store.induce import InduceStore
from valuespectrum.store.probe import ProbeStore
from valuespectrum.store.rows import content_id, insert_rows, now_utc, screenshot_key
from valuespectrum.store.schema import DB_NAME, DDL, SCORE_COLUMNS
from valuespectrum.store.workspace import Store, ensure_workspace

__all__ = [
    "DB_NAME", "DDL", "SCORE_COLUMNS", "InduceStore", "ProbeStore", "ScreenshotRow", "Store",
    "content_id", "ensure_workspace", "insert_rows", "now_utc", "screenshot_key",
]
