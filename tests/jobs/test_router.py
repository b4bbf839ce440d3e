"""GET /jobs/{id}: a job's state for whoever started it, and for admins; 404 for the rest."""

import asyncio

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from procrastinate import App
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.cli.db import upgrade_to_head
from app.jobs.tasks import RESOURCES, Resources, backfill_prices
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import bearer, make_user


async def test_the_starter_and_admins_see_a_job_others_get_404(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    starter = await make_user(session, Role.VIEWER)
    other = await make_user(session, Role.PORTFOLIO_MANAGER)
    admin = await make_user(session, Role.ADMIN)
    job_id = await backfill_prices.defer_async(
        ticker="MSFT", start="2024-01-01", end="2024-12-31", requested_by=str(starter.id)
    )
    path = f"/jobs/{job_id}"
    mine = await client.get(path, headers=await bearer(app, starter))
    assert mine.status_code == 200
    body = mine.json()
    assert body["id"] == job_id and body["task"] == "backfill_prices"
    assert body["status"] == "todo" and body["attempts"] == 0
    assert body["args"]["ticker"] == "MSFT"
    assert (await client.get(path, headers=await bearer(app, admin))).status_code == 200
    refused = await client.get(path, headers=await bearer(app, other))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "job_not_found"


async def test_a_job_that_ran_says_it_succeeded(
    client: AsyncClient, app: FastAPI, session: AsyncSession, resources: Resources
) -> None:
    starter = await make_user(session, Role.ANALYST)
    queue: App = app.state.shared.job_queue
    job_id = await backfill_prices.defer_async(
        ticker="KO", start="2024-01-01", end="2024-01-31", requested_by=str(starter.id)
    )
    await queue.run_worker_async(wait=False, additional_context={RESOURCES: resources})
    response = await client.get(f"/jobs/{job_id}", headers=await bearer(app, starter))
    assert response.json()["status"] == "succeeded"


async def test_unknown_and_malformed_job_ids(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    assert (await client.get(f"/jobs/{2**62}", headers=headers)).status_code == 404
    for bad in ("0", "abc", str(2**63)):
        assert (await client.get(f"/jobs/{bad}", headers=headers)).status_code == 422, bad
    assert (await client.get("/jobs/1")).status_code == 401


async def test_the_embedded_mode_has_no_jobs(tmp_sqlite_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    embedded = create_app(make_settings(database_url=tmp_sqlite_url, redis_url=None))
    async with LifespanManager(embedded):
        assert embedded.state.shared.job_queue is None
        async with embedded.state.shared.sessions() as session:
            user = await make_user(session, Role.ADMIN)
        transport = ASGITransport(app=embedded)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/jobs/1", headers=await bearer(embedded, user))
    assert response.status_code == 404 and response.json()["error"]["code"] == "job_not_found"
