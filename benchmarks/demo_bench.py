"""Demo-corpus benchmark: drawing a synthetic screenshot vs only PNG-encoding it.

``collect`` with ``corpus=demo`` draws every screenshot (scene, caption overlay, counts) and then
writes it as PNG. Both are timed here on the same images in one run: the encode alone is the
floor any corpus pays, so the ratio says what drawing adds. Aim: under 250 ms an image drawn
(about 20 ms on an idle core), i.e. a 600-image demo in well under a minute.

    python benchmarks/demo_bench.py [--n 60]
"""

from __future__ import annotations

import argparse
import time

from valuespectrum.corpus.demo import generate_demo
from valuespectrum.corpus.images import encode_png

AIM_MS = 250.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="demo images")
    args = ap.parse_args()
    t0 = time.perf_counter()
    items = list(generate_demo(args.n, seed=1))
    drawn = (time.perf_counter() - t0) / args.n
    t0 = time.perf_counter()
    for item in items:
        encode_png(item.image.image)
    encoded = (time.perf_counter() - t0) / args.n
    print(f"{args.n} demo screenshots")
    print(f"  drawn (incl. its PNG hash): {1000 * drawn:7.1f} ms/image")
    print(f"  PNG encode alone:           {1000 * encoded:7.1f} ms/image")
    print(f"  drawn / encode: {drawn / encoded:.2f}x   drawn / aim ({AIM_MS:.0f} ms): "
          f"{1000 * drawn / AIM_MS:.2f} (aim: < 1)")


if __name__ == "__main__":
    main()
