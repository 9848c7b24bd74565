"""Pipeline stages: each module has ``run(ctx) -> dict[str, float]`` (metrics, unprefixed)."""
