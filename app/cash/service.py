"""Cash over the ledger: deposits, withdrawals, dividends, interest and fees."""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cash.schemas import CashCreate, CashRead
from app.ledger import posting
from app.ledger.models import CashTransaction
from app.market.models import Instrument
from app.portfolios.models import Portfolio
from app.users.models import User


async def record_cash(
    session: AsyncSession,
    user: User,
    portfolio: Portfolio,
    instrument: Instrument | None,
    data: CashCreate,
) -> CashRead:
    """Record a cash transaction in a portfolio whose row the caller has locked."""
    new = posting.NewCash(
        data.type, data.amount, data.date, data.note, instrument.id if instrument else None
    )
    posted = await posting.post_cash(session, user.id, portfolio, new, data.ticker)
    return CashRead(
        id=posted.ids[0],
        created_by=user.id,
        created_at=posted.at,
        **data.model_dump(),
    )


async def list_cash(
    session: AsyncSession, portfolio_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[CashRead], int]:
    query: Any = (
        select(
            CashTransaction.id,
            CashTransaction.type,
            CashTransaction.amount,
            CashTransaction.date,
            CashTransaction.note,
            Instrument.ticker,
            CashTransaction.created_by,
            CashTransaction.created_at,
        )
        .outerjoin(Instrument, Instrument.id == CashTransaction.instrument_id)
        .where(CashTransaction.portfolio_id == portfolio_id)
    )
    total = await session.scalar(
        select(func.count(CashTransaction.id)).where(CashTransaction.portfolio_id == portfolio_id)
    )
    rows = await session.execute(
        query.order_by(CashTransaction.date.desc(), CashTransaction.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [CashRead.model_validate(dict(r)) for r in rows.mappings()], total or 0
