"""An evaluation left to the worker: 202 with its job, the job's progress, every signal."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.permissions import Role
from tests.factories import bearer, make_user
from tests.jobs.worker import client_with_worker, until
from tests.strategies.helpers import DAYS, all_items, create_strategy, store_bars
from tests.strategies.test_evaluation import PRICES, SMA_5_20, wanted


@pytest.fixture
async def desk(committed_app: FastAPI) -> AsyncIterator[tuple[AsyncClient, dict[str, str]]]:
    async with committed_app.state.shared.sessions() as session:
        for ticker, prices in PRICES.items():
            await store_bars(session, ticker, prices)
        headers = await bearer(committed_app, await make_user(session, Role.ANALYST))
    async with client_with_worker(committed_app) as client:
        yield client, headers


async def test_the_worker_evaluates_and_its_job_reports_progress(
    desk: tuple[AsyncClient, dict[str, str]],
) -> None:
    client, headers = desk
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=list(PRICES)
    )
    url = f"/strategies/{strategy['id']}"
    body = {"start": DAYS[0].isoformat(), "end": DAYS[-1].isoformat()}
    started = await client.post(f"{url}/evaluate?background=true", json=body, headers=headers)
    assert started.status_code == 202, started.text
    job_url = f"/jobs/{started.json()['job_id']}"
    job = await until(client, job_url, headers, lambda j: j["status"] == "succeeded")
    assert job["task"] == "evaluate_strategy" and job["progress"] == 1
    signals = await all_items(client, f"{url}/signals", headers)
    expected = wanted("sma_cross", SMA_5_20, 0, len(DAYS) - 1)
    assert {(s["ticker"], s["date"], s["type"]) for s in signals} == expected


async def test_a_background_range_that_ends_before_it_starts_is_refused(
    desk: tuple[AsyncClient, dict[str, str]],
) -> None:
    client, headers = desk
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=list(PRICES)
    )
    body = {"start": DAYS[5].isoformat(), "end": DAYS[0].isoformat()}
    url = f"/strategies/{strategy['id']}/evaluate?background=true"
    refused = await client.post(url, json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
