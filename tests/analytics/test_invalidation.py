"""The stored NAV series is recomputed from the earliest changed date only."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.models import PortfolioNav
from app.core.database import utcnow
from app.market.models import Instrument, PriceBar
from app.portfolios.models import Portfolio
from tests.analytics.helpers import Desk, book_the_week

WEEK = {"start": "2024-01-08", "end": "2024-01-12", "benchmark": "TESTB"}


async def stored(
    session: AsyncSession, portfolio_id: uuid.UUID
) -> dict[date, tuple[Decimal | None, datetime]]:
    rows = await session.execute(
        select(PortfolioNav.date, PortfolioNav.nav, PortfolioNav.computed_at)
        .where(PortfolioNav.portfolio_id == portfolio_id)
        .execution_options(populate_existing=True)
    )
    return {day: (nav, at) for day, nav, at in rows}


def recomputed_from(
    before: dict[date, tuple[Decimal | None, datetime]],
    after: dict[date, tuple[Decimal | None, datetime]],
) -> date:
    changed = [day for day in after if before.get(day, (None, None))[1] != after[day][1]]
    return min(changed)


async def test_a_back_dated_trade_recomputes_from_its_date_only(
    session: AsyncSession, desk: Desk
) -> None:
    await book_the_week(desk)
    first = await desk.performance(**WEEK)
    before = await stored(session, desk.portfolio.id)
    assert min(before) == date(2024, 1, 5)  # the business day before the first deposit

    await desk.trade("buy", "TESTA", "10", "105", "2024-01-10")
    second = await desk.performance(**WEEK)
    after = await stored(session, desk.portfolio.id)
    assert recomputed_from(before, after) == date(2024, 1, 10)
    assert [p["nav"] for p in second["series"]][:2] == [p["nav"] for p in first["series"]][:2]
    assert second["series"][2]["nav"] == "9250.00"  # 10 more bought at Wednesday's close
    assert second["series"][3]["nav"] == "9349.00"  # 40 shares now, at 107

    # The same numbers as a recomputation from scratch.
    await session.execute(
        update(Portfolio).where(Portfolio.id == desk.portfolio.id).values(nav_valid_through=None)
    )
    await session.commit()
    full = await desk.performance(**WEEK)
    assert full["series"] == second["series"] and full["twr"] == second["twr"]


async def test_booking_lowers_the_valid_through_date_and_bumps_the_version(
    session: AsyncSession, desk: Desk
) -> None:
    await book_the_week(desk)
    await desk.performance(**WEEK)
    state = select(Portfolio.nav_valid_through, Portfolio.nav_version).where(
        Portfolio.id == desk.portfolio.id
    )
    valid, version = (await session.execute(state)).one()
    assert valid == date(2024, 1, 12)
    await desk.cash("interest", "1", "2024-01-09")
    assert tuple((await session.execute(state)).one()) == (date(2024, 1, 8), version + 1)


async def test_a_later_request_reads_the_stored_rows_without_recomputing(
    session: AsyncSession, desk: Desk
) -> None:
    await book_the_week(desk)
    await desk.performance(**WEEK)
    before = await stored(session, desk.portfolio.id)
    await desk.performance(**WEEK)
    await desk.performance(start="2024-01-09", end="2024-01-11", benchmark="TESTB")
    assert await stored(session, desk.portfolio.id) == before


async def test_a_corrected_close_recomputes_from_its_date(
    session: AsyncSession, desk: Desk
) -> None:
    await book_the_week(desk)
    await desk.performance(**WEEK)
    before = await stored(session, desk.portfolio.id)
    testa = await session.scalar(select(Instrument.id).where(Instrument.ticker == "TESTA"))
    await session.execute(
        update(PriceBar)
        .where(PriceBar.instrument_id == testa, PriceBar.date == date(2024, 1, 11))
        .values(close=Decimal("117"), fetched_at=utcnow())
    )
    await session.commit()
    body = await desk.performance(**WEEK)
    after = await stored(session, desk.portfolio.id)
    assert recomputed_from(before, after) == date(2024, 1, 11)
    assert body["series"][3]["nav"] == "9629.00"  # 6119 + 30 x 117
