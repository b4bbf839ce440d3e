"""Backtests on a real worker, every request committing: the job, its progress, a cancel."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.permissions import Role
from tests.backtests.helpers import TICKER, asked, stored_bars
from tests.factories import bearer, make_user, store_priced
from tests.jobs.worker import client_with_worker, until


@pytest.fixture
async def desk(committed_app: FastAPI) -> AsyncIterator[tuple[AsyncClient, dict[str, str]]]:
    """A client, an analyst's headers, the bars stored and a worker running."""
    async with committed_app.state.shared.sessions() as session:
        await store_priced(session, TICKER, stored_bars())
        headers = await bearer(committed_app, await make_user(session, Role.ANALYST))
    async with client_with_worker(committed_app) as client:
        yield client, headers


async def test_the_worker_runs_a_backtest_and_its_job_says_how_far_it_is(
    desk: tuple[AsyncClient, dict[str, str]],
) -> None:
    client, headers = desk
    body = asked(kind="sma_cross", params={"fast": 5, "slow": 20})
    accepted = (await client.post("/backtests", json=body, headers=headers)).json()
    url = f"/backtests/{accepted['id']}"
    found = await until(client, url, headers, lambda b: b["status"] == "succeeded")
    assert found["stats"]["trades"] == len(found["trades"]) > 0
    job = await until(
        client, f"/jobs/{accepted['job_id']}", headers, lambda j: j["status"] == "succeeded"
    )
    assert job["task"] == "run_backtest" and job["progress"] == 1


async def test_a_running_sweep_reports_progress_and_stops_when_cancelled(
    desk: tuple[AsyncClient, dict[str, str]],
) -> None:
    client, headers = desk
    grid = {"period": list(range(2, 52)), "lower": list(range(5, 50)), "upper": [60, 70, 80]}
    body = asked(kind="rsi_threshold", grid=grid)
    accepted = (await client.post("/backtests/sweep", json=body, headers=headers)).json()
    url = f"/backtests/{accepted['id']}"
    started = await until(client, url, headers, lambda b: b["progress"] > 0)
    assert started["status"] == "running"
    cancelled = await client.post(f"{url}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    job = await until(
        client, f"/jobs/{accepted['job_id']}", headers, lambda j: j["status"] == "aborted"
    )
    final = (await client.get(url, headers=headers)).json()
    assert final["status"] == "cancelled" and 0 < final["progress"] < 1
    assert job["progress"] == final["progress"]
    assert "results" not in final
    again = await client.post(f"{url}/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "backtest_finished"
