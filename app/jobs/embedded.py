"""The embedded mode has no worker: the API process itself refreshes held prices after a close,
applies the corporate actions of the portfolios that hold them, evaluates the active
strategies (placing the orders of those that trade) and runs the paper broker.

The same schedule as the worker's (REFRESH_CRON to PAPER_CRON, market days only), run
in-process.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from functools import partial

from croniter import croniter

from app.core.database import utcnow
from app.jobs.tasks import (
    EVALUATE_CRON,
    INDICATORS_CRON,
    PAPER_CRON,
    REFRESH_CRON,
    Resources,
    apply_actions_of,
    evaluate_strategies_on,
    paper_run_of,
    store_indicators_of,
)
from app.ledger.queries import held_tickers, holding_portfolios
from app.market.calendar import is_trading_day, new_york_date
from app.market.provider import MarketDataUnauthorized, MarketDataUnavailable, UnknownTicker

logger = logging.getLogger("folio.market")


async def refresh_held(resources: Resources) -> dict[str, int | str]:
    """Refresh every held ticker now: bars refetched by ticker, or why it failed."""
    async with resources.sessions() as session:
        tickers = await held_tickers(session)
        portfolios = await holding_portfolios(session)
    outcome: dict[str, int | str] = {}
    for ticker in tickers:
        try:
            outcome[ticker] = len((await resources.market.refresh(ticker)).items)
        except (UnknownTicker, MarketDataUnavailable, MarketDataUnauthorized) as exc:
            logger.warning("held prices of %s not refreshed: %s", ticker, exc.code)
            outcome[ticker] = exc.code
    for portfolio_id in portfolios:
        await apply_actions_of(resources, portfolio_id)
    return outcome


def next_run(cron: str, now: datetime) -> datetime:
    due: datetime = croniter(cron, now).get_next(datetime)
    return due


def next_refresh(now: datetime) -> datetime:
    return next_run(REFRESH_CRON, now)


async def _after_each_close(
    cron: str, work: Callable[[date], Awaitable[object]], what: str
) -> None:
    while True:
        now = utcnow()
        due = next_run(cron, now)
        await asyncio.sleep((due - now).total_seconds())
        day = new_york_date(due)
        if not is_trading_day(day):
            continue
        try:
            await work(day)
        except Exception:  # the schedule outlives one failed run (a database hiccup)
            logger.exception("in-process %s failed", what)


@contextlib.asynccontextmanager
async def refresh_schedule(resources: Resources) -> AsyncIterator[None]:
    """Run the after-close refresh and evaluation in this process while the block runs."""
    runs: list[tuple[str, Callable[[date], Awaitable[object]], str]] = [
        (REFRESH_CRON, lambda _: refresh_held(resources), "price refresh"),
        (INDICATORS_CRON, lambda _: store_indicators_of(resources), "storing of indicators"),
        (EVALUATE_CRON, partial(evaluate_strategies_on, resources), "evaluation of strategies"),
        (PAPER_CRON, partial(paper_run_of, resources), "paper broker's run"),
    ]
    tasks = [asyncio.create_task(_after_each_close(*run)) for run in runs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
