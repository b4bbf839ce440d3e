"""Cash moves: deposits, withdrawals, dividends, interest and fees, under the portfolio's lock."""

import logging
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record, snapshot
from app.cash.models import CashTransaction
from app.cash.schemas import CashCreate, CashRead
from app.core.database import utcnow
from app.market.models import Instrument
from app.market.service import MarketData
from app.portfolios import service as portfolios
from app.trades.booking import check_cash, instrument_for
from app.users.models import User

logger = logging.getLogger("folio.trades")


async def record_cash(
    session: AsyncSession, market: MarketData, user: User, portfolio_id: uuid.UUID, data: CashCreate
) -> CashRead:
    instrument = await instrument_for(session, market, data.ticker) if data.ticker else None
    portfolio = await portfolios.lock(session, portfolio_id)
    balance = portfolio.cash_balance + data.type.sign * data.amount
    if data.type.sign < 0:
        check_cash(portfolio, balance)
    row = CashTransaction(
        portfolio_id=portfolio_id,
        type=data.type,
        amount=data.amount,
        date=data.date,
        note=data.note,
        instrument_id=instrument.id if instrument else None,
        created_by=user.id,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    portfolio.cash_balance = balance
    portfolio.invalidate_nav(data.date)
    record(
        session,
        actor_id=user.id,
        action="cash.create",
        object_type="cash",
        object_id=row.id,
        portfolio_id=portfolio_id,
        after=snapshot(row, ("type", "amount", "date", "note")) | {"ticker": data.ticker},
    )
    logger.info("cash recorded", extra={"cash_id": row.id, "portfolio_id": str(portfolio_id)})
    return CashRead(
        id=row.id,
        type=row.type,
        amount=row.amount,
        date=row.date,
        note=row.note,
        ticker=data.ticker,
        created_by=row.created_by,
        created_at=row.created_at,
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
