"""Embedding-stage benchmark: images/s of the whole ``index`` stage vs the bare model forward.

Both run in this one process on the same demo images: the stage (decode + preprocess in the
prefetch thread, forward, index merge and atomic save, DuckDB bookkeeping) and the model forward
alone on tensors preprocessed beforehand. The ratio says how much of the model's speed the stage
delivers; near 1.0 means decoding and storage are hidden behind the forward pass.

    python benchmarks/embed_bench.py                       # tiny CLIP, 512 images
    python benchmarks/embed_bench.py --arch ViT-B-32 --n 256   # paper's architecture, random init
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from valuespectrum import runner
from valuespectrum.cli import compose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="demo images")
    ap.add_argument("--arch", default="tiny_clip", help="tiny_clip or an open_clip name")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        overrides = [
            f"paths.workspace={ws}",
            "tracking.enabled=false",
            "progress=false",
            f"corpus.n={args.n}",
            f"embedder.batch_size={args.batch_size}",
            "embedder.caption_encoder=null",
        ]
        if args.arch != "tiny_clip":
            overrides += [
                f"embedder.arch={args.arch}",
                "embedder.model_config=null",
                "embedder.pretrained=null",
                f"embedder.name={args.arch}",
            ]
        runner.run(compose([*overrides, "stages=[collect]"]), output_dir=Path(tmp) / "c")
        cfg = compose([*overrides, "stages=[index]"])


        from valuespectrum.retrieval.steps import make_embedder

        embedder = make_embedder(cfg.embedder).load()  # imports happen here
        t0 = time.perf_counter()
        make_embedder(cfg.embedder).load()  # what the stage pays to build its own
        load_s = time.perf_counter() - t0
        paths = sorted((ws / "images").rglob("*.png"))

        # Bare forward on tensors preprocessed outside the timer.
        import torch

        batches = [
            embedder.preprocess_images(paths[i : i + args.batch_size])
            for i in range(0, len(paths), args.batch_size)
        ]
        embedder.forward_images(batches[0][:2])  # warm-up
        t0 = time.perf_counter()
        for batch in batches:
            embedder.forward_images(batch)
        forward_s = time.perf_counter() - t0

        # The whole stage (it builds its own embedder: its load time is reported apart).
        t0 = time.perf_counter()
        metrics = runner.run(cfg, output_dir=Path(tmp) / "i")
        stage_s = time.perf_counter() - t0
        assert metrics["usage/index/images_embedded"] == len(paths)

    forward_ips, stage_ips = len(paths) / forward_s, len(paths) / max(stage_s - load_s, 1e-9)
    print(
        f"images: {len(paths)}  arch: {args.arch}  batch: {args.batch_size}  "
        f"torch threads: {torch.get_num_threads()}"
    )
    print(f"{'':24}{'seconds':>10}{'images/s':>12}")
    print(f"{'bare model forward':24}{forward_s:10.2f}{forward_ips:12.1f}")
    print(f"{'index stage':24}{stage_s - load_s:10.2f}{stage_ips:12.1f}", end="")
    print(f"   (its model build, {load_s:.2f}s, excluded)")
    print(f"ratio stage/forward (images/s): {stage_ips / forward_ips:.2f}")


if __name__ == "__main__":
    main()
