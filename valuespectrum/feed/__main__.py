"""``python -m valuespectrum.feed``: serve a workspace's corpus as a local feed, by hand.

    python -m valuespectrum.feed [--workspace data/workspace] [--recommender embedding|random]
                                 [--debug] [--port 0] [KEY=VALUE ...]

The trailing ``KEY=VALUE`` are Hydra overrides of the run's config (``embedder=clip_vitb32``,
``recommender.explore=0.2``), so the feed reads the same index files and recommender settings a
run would. The corpus must have been collected and indexed (``python run.py
stages=[collect,index]``); otherwise one line says so. Prints the URL; Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m valuespectrum.feed", description=__doc__.split(
        "\n")[0].split(": ", 1)[1])
    p.add_argument("--workspace", default=None, help="workspace folder (default: paths.workspace"
                   " of the config, data/workspace)")
    p.add_argument("--recommender", choices=("embedding", "random"), default=None,
                   help="recommender=... (default: the config's, embedding)")
    p.add_argument("--debug", action="store_true", help="allow the debug panel (?debug=1)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    return p


def _config(args: argparse.Namespace):
    from hydra import compose, initialize_config_dir

    from valuespectrum.config import CONF_DIR, ConfigError, load_config, register_schemas
    from valuespectrum.config.overrides import check_overrides

    overrides = list(args.overrides)
    problem = check_overrides(overrides, Path(CONF_DIR))
    if problem:
        raise ConfigError(problem)
    if args.workspace:
        overrides.append(f"paths.workspace={Path(args.workspace).expanduser().resolve()}")
    if args.recommender:
        overrides.append(f"recommender={args.recommender}")
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return load_config(compose("config", overrides=overrides))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from valuespectrum.config import ConfigError
    from valuespectrum.feed.catalog import COLLECT_AND_INDEX, CatalogUnavailable
    from valuespectrum.store import DB_NAME, Store

    try:
        cfg = _config(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workspace = cfg.paths.workspace_path()
    if not (workspace / DB_NAME).is_file():
        print(f"error: no workspace at {workspace}; collect and index a corpus first "
              f"({COLLECT_AND_INDEX}) or pass --workspace DIR", file=sys.stderr)
        return 2
    from valuespectrum.feed.catalog import catalog_from_workspace
    from valuespectrum.feed.server import FeedServer
    from valuespectrum.feed.session import Feed
    from valuespectrum.store.integrity import WorkspaceDamaged

    try:
        catalog = catalog_from_workspace(Store(workspace), workspace, cfg.embedder,
                                         caption_weight=cfg.recommender.caption_weight)
    except (CatalogUnavailable, WorkspaceDamaged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    feed = Feed(catalog, cfg.recommender, debug=args.debug)
    with FeedServer(feed, port=args.port) as server:
        page = f"{server.url}/" + ("?debug=1" if args.debug else "")
        print(f"local feed: {len(catalog)} items, recommender={cfg.recommender.name}, at {page} "
              "(Ctrl-C stops)", flush=True)
        try:
            while server.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("stopped", flush=True)
            return 0
    print("error: the feed server stopped", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
