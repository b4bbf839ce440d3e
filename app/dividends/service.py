"""Dividends over the ledger: proposals brought up to date on read, booked or dismissed."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.dividends.schemas import DividendRead
from app.ledger import actions, dividends
from app.ledger.models import DividendStatus
from app.market.calendar import new_york_date
from app.market.service import MarketData, final_date
from app.portfolios.models import Portfolio
from app.users.models import User


async def apply_actions(session: AsyncSession, market: MarketData, portfolio: Portfolio) -> None:
    """Sync the corporate actions of the portfolio's instruments, fold in new splits, and
    bring its dividend proposals up to date (booking them when it books automatically)."""
    await actions.apply_splits(session, market, portfolio, final_date())
    locked = await actions.lock_books(session, portfolio.id)
    await dividends.propose(session, locked, new_york_date(utcnow()))


async def list_dividends(
    session: AsyncSession,
    market: MarketData,
    portfolio: Portfolio,
    status: DividendStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[DividendRead], int]:
    await apply_actions(session, market, portfolio)
    rows, total = await dividends.listed(session, portfolio.id, status, limit, offset)
    return [DividendRead.model_validate(r) for r in rows], total


async def book(
    session: AsyncSession, user: User, portfolio: Portfolio, dividend_id: int
) -> DividendRead:
    row = await dividends.book(session, user.id, portfolio, dividend_id, new_york_date(utcnow()))
    return await _read(session, portfolio, row.id)


async def dismiss(
    session: AsyncSession, user: User, portfolio: Portfolio, dividend_id: int
) -> DividendRead:
    row = await dividends.dismiss(session, user.id, portfolio, dividend_id)
    return await _read(session, portfolio, row.id)


async def _read(session: AsyncSession, portfolio: Portfolio, dividend_id: int) -> DividendRead:
    return DividendRead.model_validate(await dividends.one(session, portfolio.id, dividend_id))
