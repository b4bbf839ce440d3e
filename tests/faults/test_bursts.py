"""A burst of signed-in requests for one cold price range, far more than the pool holds.

While the vendor takes its time, no request may keep a pooled connection: the waiters wait
on the single flight, not on the pool, and every one of them is answered.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.conftest import make_settings
from tests.core.test_cache import ThrowawayRedis
from tests.faults.conftest import Desk, call, open_desk
from tests.faults.fake_vendor import FakeTiingo

BURST = 200
# A pool of ten that gives up waiting sooner than the vendor answers: a request holding a
# connection through the vendor's answer would starve the others.
POOL = {"db_pool_size": 5, "db_max_overflow": 5, "db_pool_timeout": 2.0}
VENDOR_SECONDS = 3.0
RANGE = "/market/tickers/GOOGL/prices?start=2024-01-02&end=2024-01-31"


@asynccontextmanager
async def slow_vendor_desk(database_url: str) -> AsyncIterator[tuple[Desk, FakeTiingo]]:
    """A desk whose vendor takes VENDOR_SECONDS to answer, on a pool of ten."""
    vendor = FakeTiingo(mode="slow", slow_seconds=VENDOR_SECONDS)
    await vendor.start()
    redis = ThrowawayRedis()
    redis.start()
    settings = make_settings(
        database_url=database_url,
        redis_url=redis.url,
        market_data_provider="tiingo",
        tiingo_api_key="burst-test-key",
        tiingo_base_url=vendor.url,
        tiingo_calls_per_minute=1000,
        vendor_timeout_seconds=10,
        market_lock_ttl_seconds=30,
        **POOL,
    )
    try:
        async with open_desk(settings) as desk:
            yield desk, vendor
    finally:
        await vendor.stop()
        redis.stop()


async def test_a_burst_for_one_cold_range_is_answered_whole_with_one_vendor_call(
    fresh_database_url: str,
) -> None:
    async with slow_vendor_desk(fresh_database_url) as (desk, vendor):
        burst = (
            call(desk.client, "prices", "GET", RANGE, headers=desk.viewer) for _ in range(BURST)
        )
        outcomes = await asyncio.gather(*burst)
    failures = [(o.status, o.code) for o in outcomes if o.status != 200]
    assert not failures, failures[:5]
    assert len(vendor.calls_to("/tiingo/daily/GOOGL/prices")) == 1


COLD_TICKERS = [f"CLD{i:02d}" for i in range(30)]
RANGE_ASKED = {"start": "2015-01-02", "end": "2015-01-30"}


async def test_a_burst_of_backtests_on_cold_tickers_never_reports_the_database_down(
    fresh_database_url: str,
) -> None:
    """Each request needs the vendor (the instrument, its actions, its bars) before it can
    answer; while it waits it keeps no pooled connection, so none of them starves."""
    body = {"kind": "sma_cross", "params": {"fast": 2, "slow": 3}, "start": "2015-01-02"}
    async with slow_vendor_desk(fresh_database_url) as (desk, _):
        burst = (
            call(
                desk.client,
                "backtest",
                "POST",
                "/backtests",
                json=body | {"ticker": ticker, "end": "2015-01-30"},
                headers=desk.analyst,
            )
            for ticker in COLD_TICKERS
        )
        outcomes = await asyncio.gather(*burst)
    # The vendor's two bars are too few for the warm-up: a clear 422 for each, never a 503.
    assert {(o.status, o.code) for o in outcomes} == {(422, "too_few_bars")}


async def test_parallel_evaluations_of_cold_tickers_are_all_answered(
    fresh_database_url: str,
) -> None:
    async with slow_vendor_desk(fresh_database_url) as (desk, _):
        strategy = {"name": "cold", "kind": "sma_cross", "params": {"fast": 2, "slow": 3}}
        created = await desk.client.post(
            "/strategies", json=strategy | {"tickers": COLD_TICKERS[:10]}, headers=desk.analyst
        )
        assert created.status_code == 201, created.text
        url = f"/strategies/{created.json()['id']}/evaluate"
        burst = (
            call(desk.client, "evaluate", "POST", url, json=RANGE_ASKED, headers=desk.analyst)
            for _ in range(20)
        )
        outcomes = await asyncio.gather(*burst)
    assert [(o.status, o.code) for o in outcomes if o.status != 200] == []


HOLDINGS = [f"SIM{i:03d}" for i in range(200)]


async def test_the_first_valuation_of_many_cold_holdings_is_answered(
    fresh_database_url: str,
) -> None:
    """Valuing holdings the store has never priced fetches and stores each one's bars
    through the market's own few connections: all at once, the last would wait for a
    connection longer than the pool waits, and the read would report the database down."""
    settings = make_settings(database_url=fresh_database_url, db_pool_timeout=1.0)
    rows = "".join(f"2025-03-03,{ticker},buy,1,10.00,0\n" for ticker in HOLDINGS)
    csv = "trade_date,ticker,side,quantity,price,fees\n" + rows
    async with open_desk(settings) as desk:
        imported = await desk.client.post(
            f"/portfolios/{desk.slug}/trades/import",
            files={"file": ("holdings.csv", csv, "text/csv")},
            headers=desk.analyst,
        )
        assert imported.status_code == 201, imported.text
        positions = await desk.client.get(
            f"/portfolios/{desk.slug}/positions", params={"limit": 500}, headers=desk.viewer
        )
    assert positions.status_code == 200, positions.text
    assert len(positions.json()["items"]) == len(HOLDINGS)
