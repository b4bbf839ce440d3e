"""Redis stopped and started under mixed traffic, the API left running.

No answer is a 5xx. What does not need Redis keeps answering: liveness, readiness (which
says the cache is down), inspiration, sign-in (throttling is skipped, and logged), and the
signed-in reads and bookings (sessions and signed-out tokens live in the database). Once
Redis is back, the same app uses it again: market data is cached in it. The books hold.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from tests.conftest import make_settings
from tests.core.test_cache import ThrowawayRedis
from tests.factories import PASSWORD
from tests.faults.conftest import Desk, Outcome, Stream, booking, books_hold, call, open_desk

WORKERS = 6
RECOVERY_SECONDS = 10.0
PUBLIC = {"health", "ready", "inspiration", "login"}
WITHOUT_REDIS = PUBLIC | {"positions", "trades", "book"}


def mixed(desk: Desk) -> Callable[[int, int], Awaitable[Outcome]]:
    book = booking(desk, "MSFT")
    slug = desk.slug
    requests: list[tuple[str, str, str, dict[str, object]]] = [
        ("health", "GET", "/health", {}),
        ("ready", "GET", "/health/ready", {}),
        ("inspiration", "GET", "/inspiration", {}),
        ("positions", "GET", f"/portfolios/{slug}/positions", {"headers": desk.viewer}),
        ("trades", "GET", f"/portfolios/{slug}/trades", {"headers": desk.viewer}),
        ("quotes", "GET", "/market/quotes?tickers=AAPL,MSFT", {"headers": desk.viewer}),
        (
            "login",
            "POST",
            "/auth/jwt/login",
            {"data": {"username": desk.analyst_email, "password": PASSWORD}},
        ),
    ]

    async def send(worker: int, n: int) -> Outcome:
        pick = (worker + n) % (len(requests) + 1)
        if pick == len(requests):
            return await book(worker, n)
        name, method, url, kwargs = requests[pick]
        return await call(desk.client, name, method, url, **kwargs)

    return send


async def test_redis_outage_mid_load_degrades_then_recovers(fresh_database_url: str) -> None:
    server = ThrowawayRedis()
    server.start()
    try:
        settings = make_settings(database_url=fresh_database_url, redis_url=server.url)
        async with open_desk(settings) as desk:
            stream = Stream(mixed(desk), WORKERS)
            await asyncio.sleep(1.0)
            stopping = time.perf_counter()
            await asyncio.to_thread(server.stop)
            down = time.perf_counter()
            await asyncio.sleep(2.0)
            starting = time.perf_counter()
            await asyncio.to_thread(server.start)
            up = time.perf_counter()
            await stream.until(
                lambda o: o.name == "quotes" and o.status < 300, RECOVERY_SECONDS, after=up
            )
            await asyncio.sleep(0.5)
            outcomes = await stream.stop()

            assert all(o.status < 500 for o in outcomes), _failures(outcomes)
            before = [o for o in outcomes if o.started + o.elapsed < stopping]
            during = [
                o for o in outcomes if down <= o.started and o.started + o.elapsed <= starting
            ]
            assert before and all(o.status < 300 for o in before), _failures(before)
            assert {o.name for o in during} >= WITHOUT_REDIS
            for o in during:
                if o.name in WITHOUT_REDIS:
                    assert o.status < 300, (o.name, o.status, o.body)
            outage = [o for o in during if o.name == "ready"]
            assert all(o.body["status"] == "degraded" for o in outage), outage[0].body
            assert all(o.body["cache"]["status"] == "down" for o in outage)

            ready = await desk.client.get("/health/ready")
            assert ready.json()["cache"]["status"] == "up", ready.text
            quotes = await desk.client.get("/market/quotes?tickers=KO", headers=desk.viewer)
            assert quotes.status_code == 200, quotes.text
        client = aioredis.Redis.from_url(server.url)
        try:
            assert await client.exists("quote:KO"), "market data is cached in Redis again"
        finally:
            await client.aclose()
    finally:
        server.stop()
    await books_hold(fresh_database_url)


def _failures(outcomes: list[Outcome]) -> str:
    bad = [o for o in outcomes if o.status >= 300]
    return "; ".join(f"{o.name} {o.status} {o.code}" for o in bad[:10])
