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


async def test_a_refused_import_is_answered_and_audited_on_sqlite(tmp_sqlite_url: str) -> None:
    """The refusal's audit record is written in a transaction of its own: SQLite's one writer
    must not be the import's rolled-back transaction still holding the lock."""
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    admin = {"username": "lead@desk.example", "password": "quiet harbor lantern 42"}
    settings = make_settings(
        database_url=tmp_sqlite_url,
        redis_url=None,
        first_superuser_email=admin["username"],
        first_superuser_password=admin["password"],
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        token = (await client.post("/auth/jwt/login", data=admin)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/portfolios", json={"name": "Lite Fund"}, headers=headers)
        slug = created.json()["slug"]
        bad = "trade_date,ticker,side,quantity,price\n2026-01-05,AAPL,buy,ten,100\n"
        files = {"file": ("trades.csv", bad, "text/csv")}
        refused = await client.post(
            f"/portfolios/{slug}/trades/import", files=files, headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_csv"
        audit = await client.get(
            "/admin/audit", params={"action": "trades.import_refused"}, headers=headers
        )
        assert [e["action"] for e in audit.json()["items"]] == ["trades.import_refused"]
