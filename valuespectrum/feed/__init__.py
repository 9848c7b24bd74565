"""The local short-video feed: a catalog of the corpus, a recommender you can read and set, the
in-process Feed (sessions, impressions), and its FastAPI app, page and loopback server.

The FastAPI/uvicorn modules (``app``, ``server``) are imported only by who serves HTTP; the
direct driver uses ``catalog``, ``recommender`` and ``session`` alone.
"""
