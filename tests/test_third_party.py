"""quiet_loading drops open_clip's root-logger chatter inside the block only, also when nested."""

from __future__ import annotations

import logging
import os

import pytest

from valuespectrum.third_party import quiet_loading


def _emit(pathname: str, message: str) -> None:
    record = logging.LogRecord("root", logging.WARNING, pathname, 1, message, None, None)
    logging.getLogger().handle(record)


def test_open_clip_warnings_are_dropped_only_inside_the_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    open_clip = os.path.join(os.sep, "site-packages", "open_clip", "factory.py")
    ours = os.path.join(os.sep, "app", "valuespectrum", "embedding.py")
    with quiet_loading():
        with quiet_loading():  # nested: the outer block stays quiet after the inner one ends
            _emit(open_clip, "inner")
        _emit(open_clip, "outer")
        _emit(ours, "ours inside")
    _emit(open_clip, "after")
    assert [r.getMessage() for r in caplog.records] == ["ours inside", "after"]
    assert logging.getLogger("open_clip").level == logging.NOTSET
