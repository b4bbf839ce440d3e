"""Fixtures on a real PostgreSQL and a real Redis.

`TEST_DATABASE_URL` (a server URL; a fresh database is created on it and dropped after)
and `TEST_REDIS_URL` are used when given; otherwise the local servers on their standard
ports. Every test runs inside a transaction that is rolled back at its end.
"""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.cli.db import upgrade_to_head
from app.core.config import Environment, Settings
from app.main import create_app
from app.market.models import Instrument

SERVER_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOW_TO_START = (
    "Folio's tests need a real PostgreSQL and Redis. Set TEST_DATABASE_URL and TEST_REDIS_URL, "
    "or start local ones on the standard ports: `pg_ctlcluster <version> main start` and "
    "`redis-server --daemonize yes`, or `docker compose up -d db redis` with "
    "TEST_DATABASE_URL=postgresql+asyncpg://folio:folio@127.0.0.1:5432/postgres."
)


def _reachable(url: str, default_port: int) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or default_port), 2):
            return True
    except OSError:
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [
        name
        for name, url, port in (("PostgreSQL", SERVER_URL, 5432), ("Redis", REDIS_URL, 6379))
        if not _reachable(url, port)
    ]
    if missing:
        pytest.exit(f"{' and '.join(missing)} not reachable. {HOW_TO_START}", returncode=2)


async def _admin(statement: str) -> None:
    engine = create_async_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def _migrated_database() -> Iterator[str]:
    name = f"folio_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    yield from _migrated_database()


@pytest.fixture
def fresh_database_url() -> Iterator[str]:
    """A database of the test's own, for work that must really commit (concurrency)."""
    yield from _migrated_database()


@pytest.fixture
async def committed_app(fresh_database_url: str) -> AsyncIterator[FastAPI]:
    """The app on its own database, every request committing for real."""
    settings = make_settings(
        database_url=fresh_database_url, redis_url=REDIS_URL, db_pool_timeout=60
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "log_dir": None,
        "market_data_provider": "simulated",
        # Tests roll their transactions back, so no NOTIFY ever evicts a kept user.
        "session_cache_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, redis_url=REDIS_URL)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncConnection]:
    """One connection in a transaction that every session of the test joins, rolled back after.

    Market data commits its own writes (instruments and bars) outside that transaction:
    what it wrote during the test is deleted after it.
    """
    real_sessionmaker = app.state.shared.sessions
    async with (
        forget_new_instruments(app.state.shared.engine),
        app.state.shared.engine.connect() as conn,
    ):
        transaction = await conn.begin()
        app.state.shared.sessions = async_sessionmaker(
            bind=conn,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )
        try:
            yield conn
        finally:
            app.state.shared.sessions = real_sessionmaker
            await transaction.rollback()


@asynccontextmanager
async def forget_new_instruments(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.connect() as conn:
        before = await conn.scalar(select(func.coalesce(func.max(Instrument.id), 0)))
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(Instrument).where(Instrument.id > before))


@pytest.fixture
async def session(app: FastAPI, db: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with app.state.shared.sessions() as s:
        yield s


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Every test starts with an empty Redis database: nothing cached leaks between tests."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
async def client(app: FastAPI, db: AsyncConnection) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://test") as c:
        yield c


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}"
