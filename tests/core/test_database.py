"""Exact money and UTC timestamps on both engines, and one transaction per request."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.database import Money, SessionDep, UTCDateTime, create_engine
from app.core.errors import Conflict
from app.main import create_app
from tests.conftest import make_settings

EXACT_VALUES = [
    Decimal("1234567.123456789"),
    Decimal("0.00000001"),
    Decimal("-0.01"),
    Decimal("0"),
    Decimal("98765432109876543210.123456789012345678"),
]


def probe_table(metadata: MetaData) -> Table:
    return Table(
        f"probe_{uuid.uuid4().hex[:12]}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("amount", Money()),
        Column("at", UTCDateTime()),
        Column("label", String(40)),
    )


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(
    request: pytest.FixtureRequest, database_url: str, tmp_sqlite_url: str
) -> AsyncIterator[AsyncEngine]:
    url = database_url if request.param == "postgresql" else tmp_sqlite_url
    e = create_engine(make_settings(), url)
    yield e
    await e.dispose()


@pytest.fixture
async def table(engine: AsyncEngine) -> AsyncIterator[Table]:
    metadata = MetaData()
    t = probe_table(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield t
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)


async def test_money_round_trips_exactly(engine: AsyncEngine, table: Table) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(table), [{"id": i, "amount": v} for i, v in enumerate(EXACT_VALUES)]
        )
    async with engine.connect() as conn:
        rows = (await conn.execute(select(table.c.amount).order_by(table.c.id))).scalars().all()
    assert rows == EXACT_VALUES
    assert all(type(v) is Decimal for v in rows)


async def test_money_keeps_none(engine: AsyncEngine, table: Table) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(table).values(id=1, amount=None))
        assert (await conn.execute(select(table.c.amount))).scalar_one() is None


async def test_utc_datetime_comes_back_aware_in_utc(engine: AsyncEngine, table: Table) -> None:
    new_york = datetime(2026, 1, 5, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    async with engine.begin() as conn:
        await conn.execute(insert(table).values(id=1, at=new_york))
    async with engine.connect() as conn:
        at = (await conn.execute(select(table.c.at))).scalar_one()
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
    assert at == datetime(2026, 1, 5, 21, 0, 0, 123456, tzinfo=UTC)


async def test_utc_datetime_refuses_a_naive_value(engine: AsyncEngine, table: Table) -> None:
    async with engine.begin() as conn:
        with pytest.raises(StatementError, match="naive datetime"):
            await conn.execute(insert(table).values(id=1, at=datetime(2026, 1, 5, 16, 0)))


@pytest.fixture
async def committed_table(database_url: str) -> AsyncIterator[tuple[Table, AsyncEngine]]:
    """A table on PostgreSQL outside the rolled-back test transaction, dropped after."""
    metadata = MetaData()
    t = probe_table(metadata)
    engine = create_engine(make_settings(), database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield t, engine
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
    await engine.dispose()


@pytest.fixture
async def unit_of_work_app(
    database_url: str, committed_table: tuple[Table, AsyncEngine]
) -> AsyncIterator[tuple[AsyncClient, FastAPI]]:
    table, _ = committed_table
    app = create_app(make_settings(database_url=database_url, redis_url=None))

    @app.post("/probe/{label}")
    async def write_two_rows(label: str, session: SessionDep) -> dict[str, str]:
        await session.execute(insert(table).values(amount=Decimal("1.5"), label=label))
        await session.execute(insert(table).values(amount=Decimal("2.5"), label=label))
        if label == "fail":
            raise Conflict("refused after writing", code="probe_refused")
        return {"label": label}

    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client, app


def count_transactions(engine: AsyncEngine) -> dict[str, int]:
    counts = {"commit": 0, "rollback": 0}

    @event.listens_for(engine.sync_engine, "commit")
    def on_commit(_: object) -> None:
        counts["commit"] += 1

    @event.listens_for(engine.sync_engine, "rollback")
    def on_rollback(_: object) -> None:
        counts["rollback"] += 1

    return counts


async def _labels(table: Table, engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(table.c.label))).scalars())


async def test_a_request_that_succeeds_commits_its_writes_once(
    unit_of_work_app: tuple[AsyncClient, FastAPI], committed_table: tuple[Table, AsyncEngine]
) -> None:
    client, app = unit_of_work_app
    counts = count_transactions(app.state.shared.engine)
    response = await client.post("/probe/ok")
    assert response.status_code == 200, response.text
    assert counts["commit"] == 1
    assert await _labels(*committed_table) == ["ok", "ok"]


async def test_a_request_that_raises_rolls_back_every_write(
    unit_of_work_app: tuple[AsyncClient, FastAPI], committed_table: tuple[Table, AsyncEngine]
) -> None:
    client, app = unit_of_work_app
    counts = count_transactions(app.state.shared.engine)
    response = await client.post("/probe/fail")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "probe_refused"
    assert counts == {"commit": 0, "rollback": 1}
    assert await _labels(*committed_table) == []
