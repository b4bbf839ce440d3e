"""Market-data fixtures: a real PostgreSQL and Redis, and the vendors served by respx.

The vendor bodies in `vendor/` are the real shapes of Tiingo's and Polygon's responses.
MarketData commits its own writes, so each test deletes the instruments it created.
"""

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.cache import Cache, RedisCache
from app.core.config import Settings
from app.core.database import create_engine, create_sessionmaker
from app.market.models import Instrument
from app.market.service import MarketData, create_market_data
from tests.conftest import REDIS_URL, make_settings

VENDOR = Path(__file__).parent / "vendor"
TIINGO_URL = "https://tiingo.test"
POLYGON_URL = "https://polygon.test"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"

MarketFactory = Callable[..., MarketData]


def vendor_body(name: str) -> bytes:
    return (VENDOR / name).read_bytes()


def vendor_json(name: str) -> Any:
    return json.loads(vendor_body(name))


def market_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "market_data_provider": "tiingo",
        "tiingo_api_key": "tiingo-test-key",
        "tiingo_base_url": TIINGO_URL,
        "polygon_api_key": "polygon-test-key",
        "polygon_base_url": POLYGON_URL,
        "tiingo_calls_per_minute": 1000,
        "polygon_calls_per_minute": 1000,
        "vendor_max_attempts": 3,
        "vendor_max_wait_seconds": 2.0,
        "vendor_backoff_base_seconds": 0.001,
        "vendor_backoff_max_seconds": 0.01,
        "market_lock_poll_seconds": 0.01,
    }
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture(scope="session")
async def market_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(market_settings(database_url), database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessionmaker(
    market_engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = create_sessionmaker(market_engine)
    async with maker() as session:
        before = await session.scalar(select(func.coalesce(func.max(Instrument.id), 0)))
    yield maker
    async with maker() as session:
        await session.execute(delete(Instrument).where(Instrument.id > before))
        await session.commit()


@pytest.fixture
async def cache() -> AsyncIterator[RedisCache]:
    redis = RedisCache(REDIS_URL)
    await redis.client.flushdb()
    yield redis
    await redis.close()


@pytest.fixture
async def build(
    database_url: str,
    cache: RedisCache,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[MarketFactory]:
    """`build(provider, cache_backend, **settings)`: a MarketData, closed after the test."""
    built: list[MarketData] = []

    def factory(
        provider: str = "tiingo", cache_backend: Cache | None = None, **overrides: object
    ) -> MarketData:
        settings = market_settings(database_url, market_data_provider=provider, **overrides)
        market = create_market_data(settings, cache_backend or cache, sessionmaker)
        built.append(market)
        return market

    yield factory
    for market in built:
        await market.close()


@pytest.fixture
def vendor() -> Iterator[respx.MockRouter]:
    """Both vendors' hosts, answering only the routes a test declares (others fail it)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
