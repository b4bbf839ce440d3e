"""The after-close task: the latest indicator values of every held or watched ticker."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.auth.permissions import Role
from app.indicators.models import IndicatorValue
from app.jobs.queue import queue
from app.jobs.tasks import store_latest_indicators
from app.ledger.models import Position
from app.market.models import Instrument
from app.strategies.models import Strategy
from tests.factories import make_portfolio, make_user
from tests.indicators.walks import store_walk, talib_last, walk
from tests.jobs.worker import job_context

MONDAY_AFTER_CLOSE = int(datetime(2026, 11, 23, 21, 40, tzinfo=UTC).timestamp())
THANKSGIVING_AFTER_CLOSE = int(datetime(2026, 11, 26, 21, 40, tzinfo=UTC).timestamp())


async def universe(session: AsyncSession) -> None:
    """WLKH held, WLKW watched by an active strategy, WLKI only by an inactive one, WLKG sold."""
    for seed, ticker in enumerate(("WLKH", "WLKW", "WLKI", "WLKG")):
        await store_walk(session, ticker, seed)
    user = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, user)
    ids = dict((await session.execute(select(Instrument.ticker, Instrument.id))).tuples().all())
    for ticker, quantity in (("WLKH", "10"), ("WLKG", "0")):
        session.add(
            Position(
                portfolio_id=portfolio.id,
                instrument_id=ids[ticker],
                quantity=Decimal(quantity),
                cost_basis=Decimal(0),
                realized_pnl=Decimal(0),
            )
        )
    for tickers, active in ((["WLKW", "WLKH"], True), (["WLKI"], False)):
        session.add(
            Strategy(
                name=f"strategy {uuid.uuid4().hex[:8]}",
                kind="sma_cross",
                params={"fast": 10, "slow": 30},
                tickers=tickers,
                sizing={"type": "all_cash"},
                active=active,
                created_by=user.id,
            )
        )
    await session.commit()


async def stored_tickers(session: AsyncSession) -> set[str]:
    rows = await session.scalars(
        select(Instrument.ticker).join(
            IndicatorValue, IndicatorValue.instrument_id == Instrument.id
        )
    )
    return set(rows)


def test_the_task_runs_after_the_refresh_of_held_prices_on_weekdays() -> None:
    crons = {p.task.name: p.cron for p in queue.periodic_registry.periodic_tasks.values()}
    assert crons["store_latest_indicators"] == "40 21 * * 1-5"
    assert crons["refresh_held_prices"] == "30 21 * * 1-5"


async def test_after_a_close_held_and_watched_tickers_get_their_latest_values(
    app: FastAPI, session: AsyncSession, db: AsyncConnection
) -> None:
    await universe(session)
    stored = await store_latest_indicators(job_context(app), timestamp=MONDAY_AFTER_CLOSE)
    assert stored == ["WLKH", "WLKW"]
    assert await stored_tickers(session) == {"WLKH", "WLKW"}
    _, bars = walk(0, 300)  # WLKH's
    rsi = await session.scalar(
        select(IndicatorValue.value)
        .join(Instrument, Instrument.id == IndicatorValue.instrument_id)
        .where(Instrument.ticker == "WLKH", IndicatorValue.name == "rsi_14")
    )
    assert rsi is not None and float(rsi) == talib_last(bars)["rsi_14"]


async def test_nothing_is_stored_on_a_market_holiday(
    app: FastAPI, session: AsyncSession, db: AsyncConnection
) -> None:
    await universe(session)
    stored = await store_latest_indicators(job_context(app), timestamp=THANKSGIVING_AFTER_CLOSE)
    assert stored == [] and await stored_tickers(session) == set()
