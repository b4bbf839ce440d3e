"""Throughput and latency of the operations routes on one uvicorn worker."""

from bench.harness import BARE_APP, FOLIO_APP, Aim, Context, Row, load, serving


def run(ctx: Context) -> list[Row]:
    with serving(BARE_APP) as url:
        bare = load(f"{url}/health", ctx.load_seconds, ctx.connections)
    with serving(FOLIO_APP, ctx.folio_env()) as url:
        health = load(f"{url}/health", ctx.load_seconds, ctx.connections)
        ready = load(f"{url}/health/ready", ctx.load_seconds, ctx.connections)
    rps = "req/s"
    return [
        Row(
            "GET /health throughput",
            health.requests_per_second,
            rps,
            baseline=bare.requests_per_second,
            aim=Aim(">=", 0.5),
        ),
        Row("GET /health p50", health.p50_ms, "ms", baseline=bare.p50_ms, aim=Aim("<=", 2.0)),
        Row("GET /health p99", health.p99_ms, "ms", baseline=bare.p99_ms, aim=Aim("<=", 3.0)),
        Row(
            "GET /health/ready throughput (PostgreSQL + Redis)",
            ready.requests_per_second,
            rps,
            baseline=bare.requests_per_second,
            aim=Aim(">=", 1000, on_ratio=False),
        ),
        Row(
            "GET /health/ready p99",
            ready.p99_ms,
            "ms",
            baseline=bare.p99_ms,
            aim=Aim("<=", 250, on_ratio=False),
        ),
    ]
