"""The schedule and the tasks: after-close refresh of held tickers, backfills, the reaper."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from procrastinate import App, JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.core.config import Settings
from app.jobs.queue import libpq_url, queue
from app.jobs.tasks import (
    RESOURCES,
    Resources,
    backfill_prices,
    refresh_held_prices,
    retry_stalled_jobs,
)
from app.ledger.models import Position
from app.ledger.queries import held_tickers
from app.market.models import Instrument
from tests.factories import make_portfolio, make_user
from tests.jobs.conftest import RecordingMarket, jobs_of

MONDAY_AFTER_CLOSE = int(datetime(2026, 11, 23, 21, 30, tzinfo=UTC).timestamp())
THANKSGIVING_AFTER_CLOSE = int(datetime(2026, 11, 26, 21, 30, tzinfo=UTC).timestamp())


async def hold(session: AsyncSession, quantities: dict[str, str]) -> dict[str, str]:
    """A portfolio holding each made-up ticker in the given quantity; the tickers' real names."""
    portfolio = await make_portfolio(session, await make_user(session, Role.PORTFOLIO_MANAGER))
    names = {}
    for label, quantity in quantities.items():
        ticker = f"{label}{uuid.uuid4().hex[:6].upper()}"
        instrument = Instrument(ticker=ticker, name=ticker, currency="USD", provider="simulated")
        session.add(instrument)
        await session.flush()
        zero = Decimal(0)
        session.add(
            Position(
                portfolio_id=portfolio.id,
                instrument_id=instrument.id,
                quantity=Decimal(quantity),
                cost_basis=zero,
                realized_pnl=zero,
            )
        )
        names[label] = ticker
    await session.commit()
    return names


def job_context(app: App, resources: Resources) -> JobContext:
    """What a worker hands a task, for calling one directly."""
    return JobContext(
        app=app,
        job=None,  # type: ignore[arg-type]
        start_timestamp=0,
        abort_reason=lambda: None,
        additional_context={RESOURCES: resources},
    )


def test_the_schedule_refreshes_after_the_new_york_close_and_reaps_every_minute() -> None:
    crons = {p.task.name: p.cron for p in queue.periodic_registry.periodic_tasks.values()}
    assert crons == {
        "refresh_held_prices": "30 21 * * 1-5",  # then the portfolios' corporate actions
        "store_latest_indicators": "40 21 * * 1-5",
        "evaluate_strategies": "45 21 * * 1-5",  # and the orders of strategies that trade
        "run_paper_broker": "50 21 * * 1-5",
        "retry_stalled_jobs": "* * * * *",
    }


async def test_held_tickers_are_those_of_nonzero_positions(session: AsyncSession) -> None:
    names = await hold(session, {"LONG": "10", "SHORT": "-5", "GONE": "0.00000000"})
    held = await held_tickers(session)
    assert names["LONG"] in held and names["SHORT"] in held and names["GONE"] not in held


async def test_the_refresh_after_a_close_refreshes_each_held_ticker_once(
    session: AsyncSession, resources: Resources, market: RecordingMarket, memory_queue: App
) -> None:
    names = await hold(session, {"LONG": "10", "SHORT": "-5", "GONE": "0"})
    await refresh_held_prices.defer_async(timestamp=MONDAY_AFTER_CLOSE)
    await memory_queue.run_worker_async(wait=False, additional_context={RESOURCES: resources})
    refreshes = [j for j in jobs_of(memory_queue) if j["task_name"] == "refresh_ticker_prices"]
    assert {j["args"]["ticker"] for j in refreshes} >= {names["LONG"], names["SHORT"]}
    assert all(j["status"] == "succeeded" and j["args"]["day"] == "2026-11-23" for j in refreshes)
    assert sorted(market.refreshed) == sorted(j["args"]["ticker"] for j in refreshes)
    assert names["GONE"] not in market.refreshed


async def test_no_refresh_on_a_market_holiday(
    session: AsyncSession, resources: Resources, market: RecordingMarket, memory_queue: App
) -> None:
    await hold(session, {"LONG": "10"})
    await refresh_held_prices.defer_async(timestamp=THANKSGIVING_AFTER_CLOSE)
    await memory_queue.run_worker_async(wait=False, additional_context={RESOURCES: resources})
    names = {j["task_name"] for j in jobs_of(memory_queue)}
    assert "refresh_ticker_prices" not in names and market.refreshed == []


async def test_a_ticker_already_waiting_for_its_refresh_is_not_queued_twice(
    session: AsyncSession, resources: Resources, memory_queue: App
) -> None:
    names = await hold(session, {"LONG": "10"})
    context = job_context(memory_queue, resources)
    for _ in range(2):
        await refresh_held_prices(context, timestamp=MONDAY_AFTER_CLOSE)
    waiting = [j for j in jobs_of(memory_queue) if j["args"].get("ticker") == names["LONG"]]
    assert len(waiting) == 1


async def test_a_deferred_backfill_runs_on_a_worker_against_postgresql(
    real_queue: App, resources: Resources, market: RecordingMarket
) -> None:
    job_id = await backfill_prices.defer_async(ticker="AAPL", start="2016-01-01", end="2026-01-01")
    await real_queue.run_worker_async(wait=False, additional_context={RESOURCES: resources})
    [job] = await real_queue.job_manager.list_jobs_async(id=job_id)
    assert job.status == "succeeded"
    assert ("AAPL", datetime(2016, 1, 1).date(), datetime(2026, 1, 1).date()) in market.backfilled


async def test_the_reaper_runs_again_the_job_of_a_worker_that_died(
    real_queue: App, resources: Resources, settings: Settings
) -> None:
    manager = real_queue.job_manager
    deferrer = backfill_prices.configure(queue=f"reaper-test-{uuid.uuid4().hex[:8]}")
    job_id = await deferrer.defer_async(ticker="KO", start="2024-01-01", end="2024-01-31")
    dead_worker = await manager.register_worker()
    fetched = await manager.fetch_job(queues=[deferrer.job.queue], worker_id=dead_worker)
    assert fetched is not None and fetched.id == job_id
    async with await psycopg.AsyncConnection.connect(libpq_url(settings.database_url)) as conn:
        await conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 minutes'"
            " WHERE id = %s",
            (dead_worker,),
        )
    assert await retry_stalled_jobs(job_context(real_queue, resources), timestamp=0) >= 1
    [job] = await manager.list_jobs_async(id=job_id)
    assert job.status == "todo" and job.attempts == 1
    await real_queue.run_worker_async(wait=False, additional_context={RESOURCES: resources})
    [job] = await manager.list_jobs_async(id=job_id)
    assert job.status == "succeeded"
