"""Folio's background tasks. Each is idempotent: a job that runs again writes the same rows."""

import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, JobAborted
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.backtests import service as backtests
from app.backtests.models import BacktestStatus
from app.dividends.service import apply_actions
from app.indicators.latest import store_latest
from app.jobs.progress import reporting
from app.jobs.queue import queue
from app.ledger.queries import held_tickers, holding_portfolios
from app.market.calendar import is_trading_day, new_york_date
from app.market.provider import UnknownTicker
from app.market.service import MarketData
from app.orders import paper
from app.orders.auto import place_from_signals
from app.portfolios.models import Portfolio
from app.strategies.evaluation import Progress, evaluate, evaluate_after_close
from app.strategies.models import Strategy
from app.strategies.service import get as get_strategy

logger = logging.getLogger("folio.market")

REFRESH_CRON = "30 21 * * 1-5"  # UTC: after the New York close, summer and winter
INDICATORS_CRON = "40 21 * * 1-5"  # after the refresh of held prices
EVALUATE_CRON = "45 21 * * 1-5"  # after the refresh of held prices
PAPER_CRON = "50 21 * * 1-5"  # after the evaluation's orders are placed
REAPER_CRON = "* * * * *"
STALLED_AFTER_SECONDS = 60
RESOURCES = "resources"
# A refresh a vendor refused waits 1, 3, 5, 7 and 9 minutes before its next tries.
VENDOR_RETRY = RetryStrategy(max_attempts=6, wait=60, linear_wait=120)


@dataclass(frozen=True)
class Resources:
    """What tasks use, created once in each worker process."""

    sessions: async_sessionmaker[AsyncSession]
    market: MarketData


def resources(context: JobContext) -> Resources:
    found = context.additional_context[RESOURCES]
    assert isinstance(found, Resources)
    return found


def _closing_day(timestamp: int, skipped: str) -> date | None:
    """The New York market day of a periodic tick, or None (logged) when it had no close."""
    day = new_york_date(datetime.fromtimestamp(timestamp, UTC))
    if is_trading_day(day):
        return day
    logger.info("no close on %s: %s", day, skipped)
    return None


@queue.periodic(cron=REFRESH_CRON)
@queue.task(name="refresh_held_prices", pass_context=True)
async def refresh_held_prices(context: JobContext, timestamp: int) -> list[str]:
    """On each market day, one refresh job per held ticker (each retried on its own)."""
    day = _closing_day(timestamp, "held prices not refreshed")
    if day is None:
        return []
    async with resources(context).sessions() as session:
        tickers = await held_tickers(session)
        portfolios = await holding_portfolios(session)
    for ticker in tickers:
        await defer_refresh(ticker, day)
    for portfolio_id in portfolios:
        deferrer = apply_portfolio_actions.configure(
            queueing_lock=f"corporate_actions:{portfolio_id}"
        )
        with contextlib.suppress(AlreadyEnqueued):  # the one waiting will do
            await deferrer.defer_async(portfolio_id=str(portfolio_id))
    return tickers


async def defer_refresh(ticker: str, day: date) -> None:
    deferrer = refresh_ticker_prices.configure(queueing_lock=f"refresh_prices:{ticker}")
    try:
        await deferrer.defer_async(ticker=ticker, day=day.isoformat())
    except AlreadyEnqueued:
        logger.info("refresh of %s already waiting to run", ticker)


@queue.periodic(cron=EVALUATE_CRON)
@queue.task(name="evaluate_strategies", pass_context=True)
async def evaluate_strategies(context: JobContext, timestamp: int) -> int:
    """On each market day, every active strategy on each ticker's newest bar."""
    day = _closing_day(timestamp, "strategies not evaluated")
    if day is None:
        return 0
    found = resources(context)
    async with reporting(found.sessions, _job_id(context)) as report:
        return await evaluate_strategies_on(found, day, report)


async def evaluate_strategies_on(
    found: Resources, day: date, report: Progress | None = None
) -> int:
    """Evaluate the active strategies after the close of `day` and place the orders of
    those that trade; how many new signals."""
    async with found.sessions() as session:
        outcomes = await evaluate_after_close(session, found.market, day, report)
        await session.commit()
    rate = found.market.settings.paper_commission_rate
    async with found.sessions() as session:
        await place_from_signals(session, found.market, day, rate)
        await session.commit()
    return sum(outcome.signals for outcome in outcomes.values())


@queue.periodic(cron=PAPER_CRON)
@queue.task(name="run_paper_broker", pass_context=True)
async def run_paper_broker(context: JobContext, timestamp: int) -> int:
    """On each market day, the paper broker's working orders filled on that day's bars."""
    day = _closing_day(timestamp, "paper orders not filled")
    if day is None:
        return 0
    return await paper_run_of(resources(context), day)


async def paper_run_of(found: Resources, day: date) -> int:
    """Fill the paper broker's working orders through `day`; how many fills."""
    rate = found.market.settings.paper_commission_rate
    return (await paper.run(found.sessions, found.market, day, rate)).fills


@queue.task(name="evaluate_strategy", pass_context=True)
async def evaluate_strategy(
    context: JobContext, strategy_id: int, start: str, end: str, requested_by: str
) -> int:
    """One strategy over a range, reporting its progress; how many new signals."""
    found = resources(context)
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    async with reporting(found.sessions, _job_id(context)) as report:
        return await evaluate_range(found, strategy_id, first, last, report)


async def evaluate_range(
    found: Resources, strategy_id: int, start: date, end: date, report: Progress | None = None
) -> int:
    """Evaluate a strategy over a range and commit its signals; how many are new."""
    async with found.sessions() as session:
        strategy = await get_strategy(session, strategy_id)
        result = await evaluate(session, found.market, strategy, start, end, report)
        await session.commit()
    return result.signals


def _job_id(context: JobContext) -> int:
    assert context.job is not None and context.job.id is not None
    return context.job.id


@queue.task(name="refresh_ticker_prices", pass_context=True, retry=VENDOR_RETRY)
async def refresh_ticker_prices(context: JobContext, ticker: str, day: str) -> int:
    """Fetch the ticker's last days of bars again and drop its cached prices."""
    try:
        result = await resources(context).market.refresh(ticker)
    except UnknownTicker:
        logger.warning("held ticker %s is unknown to the provider; not refreshed", ticker)
        return 0
    logger.info("refreshed %d bars of %s after the close of %s", len(result.items), ticker, day)
    return len(result.items)


@queue.task(name="apply_portfolio_actions", pass_context=True, retry=VENDOR_RETRY)
async def apply_portfolio_actions(context: JobContext, portfolio_id: str) -> None:
    """Sync a portfolio's corporate actions: splits folded in, dividends proposed (and booked
    on their pay date when it books them automatically)."""
    await apply_actions_of(resources(context), uuid.UUID(portfolio_id))


async def apply_actions_of(found: Resources, portfolio_id: uuid.UUID) -> None:
    async with found.sessions() as session:
        portfolio = await session.get(Portfolio, portfolio_id)
        if portfolio is None:
            return
        await apply_actions(session, found.market, portfolio)
        await session.commit()


@queue.task(name="backfill_prices", pass_context=True, retry=VENDOR_RETRY)
async def backfill_prices(
    context: JobContext, ticker: str, start: str, end: str, requested_by: str | None = None
) -> int:
    """Store the ticker's daily bars of the range (only the missing dates are fetched)."""
    market = resources(context).market
    result = await market.daily_bars(ticker, date.fromisoformat(start), date.fromisoformat(end))
    return len(result.items)


@queue.periodic(cron=INDICATORS_CRON)
@queue.task(name="store_latest_indicators", pass_context=True)
async def store_latest_indicators(context: JobContext, timestamp: int) -> list[str]:
    """On each market day, the latest indicator values of every held or watched ticker."""
    if _closing_day(timestamp, "latest indicators not stored") is None:
        return []
    return await store_indicators_of(resources(context))


async def store_indicators_of(found: Resources) -> list[str]:
    """Store the latest indicator values of every held or watched ticker; those stored."""
    async with found.sessions() as session:
        stored = await store_latest(session, found.market, await indicator_tickers(session))
        await session.commit()
    return stored.tickers


async def indicator_tickers(session: AsyncSession) -> list[str]:
    """Every ticker some portfolio holds or an active strategy watches, alphabetically."""
    universes = await session.scalars(select(Strategy.tickers).where(Strategy.active))
    watched = {ticker for tickers in universes for ticker in tickers}
    return sorted(watched.union(await held_tickers(session)))


@queue.task(name="run_backtest", pass_context=True)
async def run_backtest(context: JobContext, backtest_id: int, requested_by: str) -> str | None:
    """Run a queued backtest or sweep; the status it ended in. One cancelled before or while
    it ran ends the job as aborted."""
    found = resources(context)
    status = await backtests.run(found.sessions, found.market, backtest_id)
    if status is None or status is BacktestStatus.CANCELLED:
        raise JobAborted(f"backtest {backtest_id} was cancelled")
    return status.value


@queue.periodic(cron=REAPER_CRON)
@queue.task(name="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Run again the jobs of workers that stopped sending heartbeats (killed, lost)."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        logger.warning("job %s (%s) stalled with its worker; retrying", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)
