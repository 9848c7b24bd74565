"""Offline corpus sources: a folder of screenshots, or a synthetic demo set.

Both yield :class:`CorpusItem` records keyed by the sha256 of the original bytes; folders also
yield :class:`Rejection` records for files that cannot be used, with a stable reason code.
"""

from __future__ import annotations

from valuespectrum.corpus.demo import generate_demo
from valuespectrum.corpus.folder import CorpusItem, Rejection, scan_folder
from valuespectrum.corpus.images import (
    NormalisedImage,
    RejectedImage,
    decode_image,
    encode_png,
    file_sha256,
    load_image,
)

__all__ = [
    "CorpusItem",
    "NormalisedImage",
    "RejectedImage",
    "Rejection",
    "decode_image",
    "encode_png",
    "file_sha256",
    "generate_demo",
    "load_image",
    "scan_folder",
]
