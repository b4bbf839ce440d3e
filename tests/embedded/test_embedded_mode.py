"""The embedded default: a SQLite file, the in-process cache and simulated market data."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.cli.db import upgrade_to_head
from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture
async def embedded_client(tmp_sqlite_url: str) -> AsyncIterator[AsyncClient]:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    app = create_app(make_settings(database_url=tmp_sqlite_url, redis_url=None))
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_health_answers_with_both_headers(embedded_client: AsyncClient) -> None:
    response = await embedded_client.get("/health")
    assert response.status_code == 200
    assert response.headers["X-Request-ID"]
    assert float(response.headers["X-Process-Time"]) >= 0


async def test_readiness_shows_the_embedded_backends(embedded_client: AsyncClient) -> None:
    response = await embedded_client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == {"status": "up", "backend": "sqlite", "detail": None}
    assert body["cache"] == {"status": "up", "backend": "memory", "detail": None}
    assert body["market_data"]["status"] == "up"
    assert body["market_data"]["backend"] == "simulated"
