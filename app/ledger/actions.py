"""Corporate actions in the books: the actions of a portfolio's instruments synced from the
vendor, and the splits stored since its positions were last folded folded in.

Readers of the books call `apply_splits` before they read positions or fold trades, with no
lock held: it may wait for the vendor, then lock the portfolio to fold.
"""

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import posting, queries
from app.market.service import MarketData
from app.portfolios.models import Portfolio


async def apply_splits(
    session: AsyncSession, market: MarketData, portfolio: Portfolio, through: date
) -> None:
    """Sync the actions of the portfolio's instruments up to `through`, and fold again the
    positions that a split stored since their last fold changes."""
    held = await queries.action_state(session, portfolio.id)
    due = [(i, ticker, known) for i, ticker, known, _ in held if known is None or known < through]
    if due:
        await market.sync_actions(due, through, session)
        held = await queries.action_state(session, portfolio.id)
    stale = {i: split for i, _, _, split in held if split is not None}
    if not stale:
        return
    locked = await lock_books(session, portfolio.id)
    await posting.refold(session, locked, sorted(stale), as_booked=True)
    await posting.invalidate_nav(session, locked, min(stale.values()))


async def lock_books(session: AsyncSession, portfolio_id: uuid.UUID) -> Portfolio:
    """The portfolio's row locked for this transaction (archived or not), reloaded."""
    locked = await session.scalar(
        select(Portfolio)
        .where(Portfolio.id == portfolio_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked
