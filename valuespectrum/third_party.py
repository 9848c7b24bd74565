"""Quiet weight loading: open_clip and transformers talk a lot while they load weights.

open_clip warns "No pretrained weights loaded ..." through the *root* logger for every random
model, and transformers draws a "Loading weights" progress bar (and logs its load report) for
every checkpoint, which breaks our own progress bars mid-line. Callers wrap a load in
``quiet_loading()`` and log one line of their own that says what was loaded; everything is
restored on exit, so third-party messages outside a load are untouched.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_depth = 0
_saved: dict[str, Any] = {}
_OPEN_CLIP_DIR = f"{os.sep}open_clip{os.sep}"


class _DropOpenClip(logging.Filter):
    """Drops records that open_clip's modules send to the root logger (``logging.warning``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _OPEN_CLIP_DIR not in record.pathname


_filter = _DropOpenClip()


def _silence() -> None:
    root = logging.getLogger()
    root.addFilter(_filter)
    open_clip_log = logging.getLogger("open_clip")
    _saved["open_clip_level"] = open_clip_log.level
    open_clip_log.setLevel(logging.ERROR)
    if "transformers" in sys.modules:  # never import it just to silence it (seconds)
        from huggingface_hub import utils as hub_utils
        from transformers.utils import logging as hf_logging

        _saved["hf_verbosity"] = hf_logging.get_verbosity()
        _saved["hf_bars"] = hf_logging.is_progress_bar_enabled()
        _saved["hub_bars"] = not hub_utils.are_progress_bars_disabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()  # also turns off the hub's bars ...
        if _saved["hub_bars"]:
            hub_utils.enable_progress_bars()  # ... but a first download is worth watching


def _restore() -> None:
    logging.getLogger().removeFilter(_filter)
    logging.getLogger("open_clip").setLevel(_saved.pop("open_clip_level", logging.NOTSET))
    if "hf_verbosity" in _saved:
        from huggingface_hub import utils as hub_utils
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity(_saved.pop("hf_verbosity"))
        if _saved.pop("hf_bars"):
            hf_logging.enable_progress_bar()
        if not _saved.pop("hub_bars"):
            hub_utils.disable_progress_bars()


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence open_clip's and transformers' logs and progress bars inside the block.

    Nesting and concurrent loads in threads are safe: the first entry silences, the last exit
    restores what was there before. Import transformers before entering to silence it too.
    """
    global _depth
    with _lock:
        if _depth == 0:
            _silence()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _restore()
