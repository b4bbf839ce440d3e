"""Stored bars in the embedded mode: SQLite and the in-process cache, exact to the digit."""

import asyncio
from datetime import date
from decimal import Decimal

import httpx
import respx
from sqlalchemy import text

from app.cli.db import upgrade_to_head
from app.core.cache import MemoryCache
from app.core.database import create_engine, create_sessionmaker
from app.market.service import create_market_data
from tests.market.conftest import TIINGO_URL, market_settings, vendor_body

PRECISE = "1234567.123456789"


async def test_bars_are_stored_and_read_back_exactly_on_sqlite(
    tmp_sqlite_url: str, vendor: respx.MockRouter
) -> None:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    row = (
        b'[{"date": "2015-01-02T00:00:00.000Z", "open": 1, "high": 1234568, "low": 1,'
        b' "close": ' + PRECISE.encode() + b', "volume": 5, "adjClose": 1234567.1}]'
    )
    vendor.get(f"{TIINGO_URL}/tiingo/daily/GOOGL").mock(
        return_value=httpx.Response(200, content=vendor_body("tiingo/tiingo_meta.json"))
    )
    prices = vendor.get(f"{TIINGO_URL}/tiingo/daily/GOOGL/prices").mock(
        return_value=httpx.Response(200, content=row)
    )
    settings = market_settings(tmp_sqlite_url, redis_url=None)
    engine = create_engine(settings)
    market = create_market_data(settings, MemoryCache(), create_sessionmaker(engine))
    try:
        await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 4))
        result = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 4))
    finally:
        await market.close()
        await engine.dispose()
    assert prices.call_count == 1
    [bar] = result.items
    assert bar.close == Decimal(PRECISE) and bar.adj_close == Decimal("1234567.1")


async def test_a_request_holding_the_sqlite_write_lock_does_not_stall_market_data(
    tmp_sqlite_url: str,
) -> None:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    settings = market_settings(tmp_sqlite_url, redis_url=None, market_data_provider="simulated")
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    market = create_market_data(settings, MemoryCache(), sessionmaker)
    try:
        async with sessionmaker() as request_session:
            await request_session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is held
            async with asyncio.timeout(2):
                result = await market.daily_bars("AAPL", date(2024, 1, 1), date(2024, 1, 10))
            assert len(result.items) == 8
        stored = await market.daily_bars("AAPL", date(2024, 1, 1), date(2024, 1, 10))
        assert stored.items == result.items
        async with sessionmaker() as session:
            assert await session.scalar(text("SELECT count(*) FROM price_bars")) == 8
    finally:
        await market.close()
        await engine.dispose()
