"""The market-data vendor slow, failing and rate limiting, while the API serves a desk.

Folio talks to a Tiingo on loopback (its real bodies) over a real socket. Slow: answers
come within the configured timeouts, the last known price marked stale. Failing: the same,
and the circuit opens so later calls do not wait. Rate limiting (429 with Retry-After):
a short Retry-After is honoured and the fresh answer served; a long one is not waited for.
With nothing known to serve, 503 market_data_unavailable with Retry-After. Meanwhile the
routes that do not call the vendor answer as fast as ever, and the books hold.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from tests.conftest import make_settings
from tests.core.test_cache import ThrowawayRedis
from tests.faults.conftest import Desk, Outcome, Stream, booking, books_hold, call, open_desk
from tests.faults.fake_vendor import FakeTiingo

TIMEOUT = 0.3
ATTEMPTS = 2
MAX_WAIT = 1.0
# A request may pass through a quote call and a last-close call, each within MAX_WAIT.
ANSWER_BOUND = 2 * MAX_WAIT + 1.0
QUOTE_TTL = 1
# Far below the slow vendor's 10 s, with room for a busy machine.
UNAFFECTED_BOUND = 2.0
KNOWN, NEVER_ASKED = "AAPL", "IBM"


@asynccontextmanager
async def vendor_desk(
    database_url: str, **overrides: object
) -> AsyncIterator[tuple[Desk, FakeTiingo]]:
    vendor = FakeTiingo()
    await vendor.start()
    redis = ThrowawayRedis()
    redis.start()
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis.url,
        "market_data_provider": "tiingo",
        "tiingo_api_key": "fault-test-key",
        "tiingo_base_url": vendor.url,
        "vendor_timeout_seconds": TIMEOUT,
        "vendor_max_attempts": ATTEMPTS,
        "vendor_max_wait_seconds": MAX_WAIT,
        "vendor_backoff_base_seconds": 0.01,
        "vendor_backoff_max_seconds": 0.05,
        "cache_ttl_quote_seconds": QUOTE_TTL,
        "tiingo_calls_per_minute": 1000,
    } | overrides
    try:
        async with open_desk(make_settings(**values)) as desk:
            # The desk's instruments and a first quote, while the vendor is well.
            for ticker in (KNOWN, "MSFT"):
                response = await booking(desk, ticker)(0, 0)
                assert response.status == 201, response.body
            warm = await quotes(desk, KNOWN)
            assert warm.status == 200 and not warm.body["stale"], warm.body
            await asyncio.sleep(QUOTE_TTL + 0.1)  # the cached quote is over
            yield desk, vendor
    finally:
        await vendor.stop()
        redis.stop()


async def quotes(desk: Desk, tickers: str) -> Outcome:
    return await call(
        desk.client, "quotes", "GET", f"/market/quotes?tickers={tickers}", headers=desk.viewer
    )


def desk_traffic(desk: Desk) -> Callable[[int, int], Awaitable[Outcome]]:
    """Requests that never call the vendor: bookings of known tickers, positions, health."""
    book = booking(desk, "MSFT")

    async def send(worker: int, n: int) -> Outcome:
        if n % 3 == 0:
            return await book(worker, n)
        if n % 3 == 1:
            url = f"/portfolios/{desk.slug}/trades?limit=20"
            return await call(desk.client, "trades", "GET", url, headers=desk.viewer)
        return await call(desk.client, "health", "GET", "/health")

    return send


def assert_unaffected(outcomes: list[Outcome]) -> None:
    assert outcomes and all(o.status < 300 for o in outcomes), [
        (o.name, o.status, o.code) for o in outcomes if o.status >= 300
    ][:5]
    slowest = max(o.elapsed for o in outcomes)
    assert slowest < UNAFFECTED_BOUND, f"a request not needing the vendor took {slowest:.2f} s"


def assert_stale(outcome: Outcome) -> None:
    assert outcome.status == 200, outcome.body
    assert outcome.body["stale"] is True and outcome.headers["X-Data-Stale"] == "true"
    assert [q["ticker"] for q in outcome.body["items"]] == [KNOWN]
    assert outcome.elapsed < ANSWER_BOUND, f"{outcome.elapsed:.2f} s"


def assert_unavailable(outcome: Outcome) -> None:
    assert outcome.status == 503, outcome.body
    assert outcome.code == "market_data_unavailable", outcome.body
    assert outcome.headers.get("Retry-After"), outcome.headers
    assert outcome.elapsed < ANSWER_BOUND, f"{outcome.elapsed:.2f} s"


async def test_a_slow_vendor_is_bounded_by_timeouts_and_stale_prices_are_served(
    fresh_database_url: str,
) -> None:
    async with vendor_desk(fresh_database_url) as (desk, vendor):
        vendor.mode = "slow"
        stream = Stream(desk_traffic(desk), 4)
        stale = await quotes(desk, KNOWN)
        nothing = await quotes(desk, NEVER_ASKED)
        assert_unaffected(await stream.stop())
        assert_stale(stale)
        assert_unavailable(nothing)

        vendor.mode = "ok"
        await asyncio.sleep(QUOTE_TTL + 0.1)
        fresh = await quotes(desk, KNOWN)
        assert fresh.status == 200 and fresh.body["stale"] is False, fresh.body
    await books_hold(fresh_database_url)


async def test_a_failing_vendor_serves_stale_prices_and_opens_the_circuit(
    fresh_database_url: str,
) -> None:
    async with vendor_desk(
        fresh_database_url, circuit_failure_threshold=3, circuit_cooldown_seconds=0.5
    ) as (desk, vendor):
        vendor.mode = "failing"
        stream = Stream(desk_traffic(desk), 4)
        stale = await quotes(desk, KNOWN)
        nothing = await quotes(desk, NEVER_ASKED)
        new_ticker = await booking(desk, "NVDA")(0, 0)
        for _ in range(3):
            await quotes(desk, NEVER_ASKED)
        ready = await desk.client.get("/health/ready")
        calls = len(vendor.calls)
        open_circuit = await quotes(desk, KNOWN)
        assert_unaffected(await stream.stop())
        assert_stale(stale)
        assert_unavailable(nothing)
        assert new_ticker.status == 503 and new_ticker.code == "market_data_unavailable", (
            new_ticker.body
        )
        documented = desk.app.openapi()["paths"]["/portfolios/{slug}/trades"]["post"]
        assert "503" in documented["responses"]
        assert ready.json()["market_data"]["status"] == "down", ready.text
        assert ready.json()["status"] == "degraded"
        assert_stale(open_circuit)
        assert len(vendor.calls) == calls, "an open circuit does not call the vendor"

        vendor.mode = "ok"
        await asyncio.sleep(0.6)  # the cooldown: one trial call closes the circuit again
        fresh = await quotes(desk, KNOWN)
        assert fresh.status == 200 and fresh.body["stale"] is False, fresh.body
        assert (await desk.client.get("/health/ready")).json()["market_data"]["status"] == "up"
    await books_hold(fresh_database_url)


async def test_a_short_vendor_retry_after_is_honoured(fresh_database_url: str) -> None:
    async with vendor_desk(fresh_database_url, vendor_max_wait_seconds=3.0) as (desk, vendor):
        vendor.mode, vendor.retry_after, vendor.limited_times = "limited", "1", 1
        started = time.perf_counter()
        fresh = await quotes(desk, KNOWN)
        assert fresh.status == 200 and fresh.body["stale"] is False, fresh.body
        asked = vendor.calls_to(f"/iex/{KNOWN}")
        assert [status for _, _, status in asked[-2:]] == [429, 200]
        assert asked[-1][0] - asked[-2][0] >= 1.0, "the second call waited for Retry-After"
        assert time.perf_counter() - started < 3.0


async def test_a_long_vendor_retry_after_is_not_waited_for(fresh_database_url: str) -> None:
    async with vendor_desk(fresh_database_url) as (desk, vendor):
        vendor.mode, vendor.retry_after = "limited", "60"
        stream = Stream(desk_traffic(desk), 4)
        stale = await quotes(desk, KNOWN)
        nothing = await quotes(desk, NEVER_ASKED)
        assert_unaffected(await stream.stop())
        assert_stale(stale)
        assert_unavailable(nothing)
        assert int(nothing.headers["Retry-After"]) >= 1
    await books_hold(fresh_database_url)
