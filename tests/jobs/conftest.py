"""Job fixtures: a stand-in for MarketData that records what tasks asked of it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from procrastinate import App
from procrastinate.testing import InMemoryConnector
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.database import utcnow
from app.jobs.queue import open_queue, queue
from app.jobs.tasks import Resources
from app.market.provider import Bar, MarketDataUnavailable
from app.market.results import BarsResult

ONE = Decimal(1)
BAR = Bar(date=date(2026, 1, 5), open=ONE, high=ONE, low=ONE, close=ONE, adj_close=ONE, volume=1)


@dataclass
class RecordingMarket:
    """Answers every ticker with one bar and remembers what was asked."""

    refreshed: list[str] = field(default_factory=list)
    backfilled: list[tuple[str, date, date]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    async def refresh(self, ticker: str) -> BarsResult:
        if ticker in self.down:
            raise MarketDataUnavailable
        self.refreshed.append(ticker)
        return BarsResult(ticker=ticker, items=[BAR], provider="simulated", fetched_at=utcnow())

    async def ensure_actions(
        self, session: object, instruments: dict[int, str], through: date
    ) -> list[str]:
        return []  # no corporate actions

    async def sync_actions(
        self, due: list[tuple[int, str, date | None]], through: date, caller: object = None
    ) -> list[str]:
        return []

    async def daily_bars(self, ticker: str, start: date, end: date) -> BarsResult:
        self.backfilled.append((ticker, start, end))
        return BarsResult(ticker=ticker, items=[BAR], provider="simulated", fetched_at=utcnow())


@pytest.fixture
def market() -> RecordingMarket:
    return RecordingMarket()


@pytest.fixture
def resources(market: RecordingMarket, app_sessions: async_sessionmaker[AsyncSession]) -> Resources:
    return Resources(app_sessions, market)  # type: ignore[arg-type]


@pytest.fixture
def app_sessions(app: FastAPI, db: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions inside the test's rolled-back transaction."""
    sessions: async_sessionmaker[AsyncSession] = app.state.shared.sessions
    return sessions


@pytest.fixture
async def real_queue(settings: Settings) -> AsyncIterator[App]:
    """The job queue on the tests' PostgreSQL database."""
    async with open_queue(settings, 4, "folio-tests") as queue:
        yield queue


@pytest.fixture
async def memory_queue() -> AsyncIterator[App]:
    """The job queue in memory, to see what was deferred and run it without PostgreSQL."""
    with queue.replace_connector(InMemoryConnector()) as memory:
        async with memory.open_async():
            yield memory


def jobs_of(memory: App) -> list[dict[str, Any]]:
    connector = memory.connector
    assert isinstance(connector, InMemoryConnector)
    return list(connector.jobs.values())
