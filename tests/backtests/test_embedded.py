"""The embedded default runs backtests in the API process, after answering 202."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Role
from app.core.database import create_sessionmaker
from app.main import create_app
from tests.backtests.helpers import SMA, TICKER, asked, stored_bars
from tests.conftest import make_settings
from tests.factories import bearer, make_user, store_priced


@pytest.fixture
async def embedded(sqlite_url: str) -> AsyncIterator[tuple[AsyncClient, dict[str, str]]]:
    app = create_app(make_settings(database_url=sqlite_url, redis_url=None))
    async with LifespanManager(app):
        async with create_sessionmaker(app.state.shared.engine)() as session:
            await store_priced(session, TICKER, stored_bars())
            headers = await bearer(app, await make_user(session, Role.ANALYST))
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="https://test") as client:
            yield client, headers


async def test_a_backtest_runs_in_the_api_process(
    embedded: tuple[AsyncClient, dict[str, str]],
) -> None:
    client, headers = embedded
    accepted = await client.post("/backtests", json=asked(**SMA), headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["job_id"] is None
    url = f"/backtests/{accepted.json()['id']}"
    deadline = time.monotonic() + 30
    while (found := (await client.get(url, headers=headers)).json())["status"] != "succeeded":
        assert found["status"] in ("queued", "running") and time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert found["stats"]["trades"] == len(found["trades"]) > 0
