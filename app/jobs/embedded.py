"""The embedded mode has no worker: the API process itself refreshes held prices after a close
and applies the corporate actions of the portfolios that hold them.

The same schedule as the worker's (REFRESH_CRON, market days only), run in-process.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from croniter import croniter

from app.core.database import utcnow
from app.jobs.tasks import REFRESH_CRON, Resources, apply_actions_of
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


def next_refresh(now: datetime) -> datetime:
    due: datetime = croniter(REFRESH_CRON, now).get_next(datetime)
    return due


async def _refresh_after_each_close(resources: Resources) -> None:
    while True:
        now = utcnow()
        due = next_refresh(now)
        await asyncio.sleep((due - now).total_seconds())
        if not is_trading_day(new_york_date(due)):
            continue
        try:
            await refresh_held(resources)
        except Exception:  # the schedule outlives one failed run (a database hiccup)
            logger.exception("in-process refresh of held prices failed")


@contextlib.asynccontextmanager
async def refresh_schedule(resources: Resources) -> AsyncIterator[None]:
    """Run the after-close refresh in this process while the block runs."""
    task = asyncio.create_task(_refresh_after_each_close(resources))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
