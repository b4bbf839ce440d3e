"""The `folio` command line on a migrated SQLite file, with settings from the environment."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli.db import upgrade_to_head
from app.core.config import get_settings
from app.core.database import create_engine, create_sessionmaker
from tests.conftest import make_settings

T = TypeVar("T")


@pytest.fixture
def sqlite_url(tmp_sqlite_url: str) -> str:
    upgrade_to_head(tmp_sqlite_url)
    return tmp_sqlite_url


@pytest.fixture
def runner(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LOG_DIR", "")
    monkeypatch.setenv("MARKET_DATA_PROVIDER", "simulated")
    for name in ("REDIS_URL", "TIINGO_API_KEY", "POLYGON_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@asynccontextmanager
async def _session(url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(make_settings(database_url=url))
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work in a session on the CLI's database, outside any event loop of the test."""

    async def main() -> T:
        async with _session(url) as session:
            return await work(session)

    return asyncio.run(main())
