"""Market routes on one worker: a cached quote against GET /health in the same run, and a
10-year daily range served from the database."""

import statistics
import time
from collections.abc import Mapping

import httpx

from app.auth.permissions import Role
from bench import seed
from bench.harness import FOLIO_APP, Aim, Context, Request, Row, load, serving

QUOTE = "/market/quotes?tickers=AAPL"
TEN_YEARS = "/market/tickers/SPY/prices?start=2015-01-01&end=2024-12-31"


def run(ctx: Context) -> list[Row]:
    signed_in = Request(headers=seed.bearer(seed.account(ctx.database_url, Role.VIEWER)))
    # A quote stays cached for the whole run, so every request is a cache hit.
    env = ctx.folio_env(SECRET_KEY=seed.SECRET_KEY, CACHE_TTL_QUOTE_SECONDS="3600")
    with serving(FOLIO_APP, env) as url:
        for path in (QUOTE, TEN_YEARS):  # fetched once from the provider and kept
            httpx.get(url + path, headers=dict(signed_in.headers), timeout=30).raise_for_status()
        health = load(f"{url}/health", ctx.load_seconds, ctx.connections)
        quote = load(url + QUOTE, ctx.load_seconds, ctx.connections, signed_in)
        me = load(f"{url}/users/me", ctx.load_seconds, ctx.connections, signed_in)
        history = one_at_a_time(url + TEN_YEARS, signed_in.headers, ctx.load_seconds)
    rps = "req/s"
    return [
        Row(
            "GET /market/quotes, 1 cached ticker (bearer), vs GET /health",
            quote.requests_per_second,
            rps,
            baseline=health.requests_per_second,
            aim=Aim(">=", 0.6),
        ),
        Row("GET /market/quotes p99", quote.p99_ms, "ms", baseline=health.p99_ms),
        Row(
            "GET /market/quotes vs GET /users/me (the same sign-in, no market data)",
            quote.requests_per_second,
            rps,
            baseline=me.requests_per_second,
        ),
        Row("10-year daily range from the database, p50 (one at a time)", history[0], "ms"),
        Row(
            "10-year daily range from the database, p99 (one at a time)",
            history[1],
            "ms",
            aim=Aim("<=", 30, on_ratio=False),
        ),
    ]


def one_at_a_time(url: str, headers: Mapping[str, str], seconds: float) -> tuple[float, float]:
    """p50 and p99 in ms of requests sent one after the other: the latency, not queueing."""
    latencies: list[float] = []
    with httpx.Client(headers=dict(headers), timeout=10) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append((time.perf_counter() - sent) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98]
