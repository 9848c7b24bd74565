"""The local short-video feed (FastAPI app, page, recommender). Not built yet."""
