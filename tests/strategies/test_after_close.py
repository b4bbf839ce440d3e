"""After each close: every active strategy on each ticker's newest bar, one signal per ticker
(HOLD included), once, even with two workers running."""

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from procrastinate import App, JobContext, periodic
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.queue import queue
from app.jobs.tasks import (
    EVALUATE_CRON,
    RESOURCES,
    Resources,
    evaluate_strategies,
    evaluate_strategies_on,
)
from app.strategies.models import EventType, Signal, StrategyEvent
from tests.strategies.helpers import (
    DAYS,
    all_items,
    analyst_headers,
    as_floats,
    closes,
    create_strategy,
    expected_types,
    store_bars,
)

PRICES = {"TSTA": closes(1), "TSTB": closes(2)}
FAST_SLOW = {"fast": 5, "slow": 20}
SMA = {"kind": "sma_cross", "params": FAST_SLOW}
TASK = "evaluate_strategies"
DAY = DAYS[-1]


def after_close(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 21, 45, tzinfo=UTC).timestamp())


@pytest.fixture
def resources(app: FastAPI, app_sessions: async_sessionmaker[AsyncSession]) -> Resources:
    return Resources(app_sessions, app.state.shared.market)


@pytest.fixture
async def desk(app: FastAPI, session: AsyncSession, client: AsyncClient) -> dict[str, Any]:
    """Bars of two tickers; an active strategy on both, an inactive one on the first."""
    for ticker, prices in PRICES.items():
        await store_bars(session, ticker, prices)
    headers = await analyst_headers(app, session)
    active = await create_strategy(client, headers, **SMA, tickers=list(PRICES))
    rsi = {"period": 14, "lower": 30, "upper": 70}
    inactive = await create_strategy(
        client, headers, kind="rsi_threshold", params=rsi, tickers=["TSTA"], active=False
    )
    return {"headers": headers, "active": active["id"], "inactive": inactive["id"]}


async def counts(session: AsyncSession) -> tuple[int, int]:
    signals = await session.scalar(select(func.count()).select_from(Signal))
    events = await session.scalar(select(func.count()).select_from(StrategyEvent))
    return signals or 0, events or 0


def test_strategies_are_evaluated_after_the_refresh_of_each_close() -> None:
    crons = {p.task.name: p.cron for p in queue.periodic_registry.periodic_tasks.values()}
    assert crons["evaluate_strategies"] == EVALUATE_CRON == "45 21 * * 1-5"


async def test_each_active_strategy_gives_one_signal_per_ticker_on_its_newest_bar(
    client: AsyncClient, session: AsyncSession, resources: Resources, desk: dict[str, Any]
) -> None:
    assert await evaluate_strategies_on(resources, DAY) == 2
    url = f"/strategies/{desk['active']}/signals"
    signals = await all_items(client, url, desk["headers"])
    assert {(s["ticker"], s["date"]) for s in signals} == {
        ("TSTA", DAY.isoformat()),
        ("TSTB", DAY.isoformat()),
    }
    for s in signals:
        types = expected_types("sma_cross", FAST_SLOW, as_floats(PRICES[s["ticker"]]))
        assert s["type"] == types[-1] and s["status"] == "new" and s["reasons"]
    assert any(s["type"] == "HOLD" and "no crossing" in s["reasons"][0] for s in signals)
    inactive = await all_items(client, f"/strategies/{desk['inactive']}/signals", desk["headers"])
    assert inactive == []
    [event] = [
        e
        for e in await all_items(client, f"/strategies/{desk['active']}/events", desk["headers"])
        if e["type"] == EventType.EVALUATED
    ]
    assert event["metadata"]["after_close"] is True
    assert (event["metadata"]["signals"], event["metadata"]["tickers"]) == (2, 2)


async def test_run_again_it_writes_nothing(
    session: AsyncSession, resources: Resources, desk: dict[str, Any]
) -> None:
    await evaluate_strategies_on(resources, DAY)
    before = await counts(session)
    assert await evaluate_strategies_on(resources, DAY) == 0
    assert await counts(session) == before


async def test_no_evaluation_on_a_market_holiday(
    session: AsyncSession, resources: Resources, desk: dict[str, Any]
) -> None:
    context = JobContext(
        app=queue,
        job=None,  # type: ignore[arg-type]
        start_timestamp=0,
        abort_reason=lambda: None,
        additional_context={RESOURCES: resources},
    )
    before = await counts(session)
    assert await evaluate_strategies(context, timestamp=after_close(date(2023, 11, 23))) == 0
    assert await counts(session) == before


async def test_with_two_workers_the_evaluation_after_a_close_runs_once(
    session: AsyncSession,
    resources: Resources,
    real_queue: App,
    desk: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tick = after_close(DAY)
    # Jobs other tests deferred (their rows rolled back since) are not this test's to run.
    for job in await real_queue.job_manager.list_jobs_async(status="todo"):
        await real_queue.job_manager.cancel_job_by_id_async(job.id, delete_job=True)
    registry = real_queue.periodic_registry
    only = {
        k: p for k, p in registry.periodic_tasks.items() if p.task.name == "evaluate_strategies"
    }
    monkeypatch.setattr(registry, "periodic_tasks", only)
    # Each worker's schedule wakes up just after the tick and tries to defer its job.
    monkeypatch.setattr(periodic, "time", SimpleNamespace(time=lambda: tick + 1))
    tries: list[int] = []
    defer_jobs = periodic.PeriodicDeferrer.defer_jobs

    async def counted(self: periodic.PeriodicDeferrer, jobs_to_defer: Iterable[Any]) -> None:
        due = list(jobs_to_defer)
        tries.extend(timestamp for _, timestamp in due)
        await defer_jobs(self, due)

    monkeypatch.setattr(periodic.PeriodicDeferrer, "defer_jobs", counted)
    workers = [
        asyncio.create_task(
            real_queue.run_worker_async(
                name=f"worker-{n}",
                concurrency=1,
                install_signal_handlers=False,
                fetch_job_polling_interval=0.1,
                additional_context={RESOURCES: resources},
            )
        )
        for n in range(2)
    ]
    try:
        jobs = await _once_done(real_queue, tries, tick)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    assert tries == [tick, tick]
    assert [job.status for job in jobs] == ["succeeded"]
    signals, _ = await counts(session)
    evaluated = await session.scalar(
        select(func.count()).where(StrategyEvent.type == EventType.EVALUATED)
    )
    assert (signals, evaluated) == (2, 1)


async def _once_done(queue: App, tries: list[int], tick: int) -> list[Any]:
    """The tick's jobs, once both workers tried to defer it and a job for it finished."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = await queue.job_manager.list_jobs_async(task=TASK)
        jobs = [j for j in found if j.task_kwargs.get("timestamp") == tick]
        if len(tries) == 2 and jobs and all(j.status == "succeeded" for j in jobs):
            await asyncio.sleep(0.5)  # time enough for a second job to show itself
            found = await queue.job_manager.list_jobs_async(task=TASK)
            return [j for j in found if j.task_kwargs.get("timestamp") == tick]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job did not finish: tries {tries}")
