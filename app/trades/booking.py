"""Trades over the ledger: book one, cancel one, and read them."""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.ledger import posting
from app.ledger.models import Trade, TradeStatus
from app.market.models import Instrument
from app.orders.models import OrderFill
from app.portfolios.models import Portfolio
from app.trades.schemas import TradeCreate, TradeRead
from app.users.models import User


def new_trade(instrument: Instrument, data: TradeCreate) -> posting.NewTrade:
    return posting.NewTrade(
        instrument.id,
        instrument.ticker,
        data.side,
        data.quantity,
        data.price,
        data.fees,
        data.trade_date,
        data.notes,
        data.external_id,
    )


async def book(
    session: AsyncSession,
    user: User,
    portfolio: Portfolio,
    instrument: Instrument,
    data: TradeCreate,
) -> TradeRead:
    """Book one trade into a portfolio whose row the caller has locked."""
    posted = await posting.post_trades(session, user.id, portfolio, [new_trade(instrument, data)])
    return TradeRead(
        id=posted.ids[0],
        ticker=instrument.ticker,
        status=TradeStatus.BOOKED,
        created_by=user.id,
        created_at=posted.at,
        cancelled_by=None,
        cancelled_at=None,
        cancel_reason=None,
        **data.model_dump(exclude={"ticker"}),
    )


class TradeOfAnOrder(Conflict):
    code = "trade_of_an_order"
    message = "The trade is an order's fill: the broker's fills are not cancelled here."


async def cancel(
    session: AsyncSession, user: User, portfolio: Portfolio, trade_id: int, reason: str
) -> TradeRead:
    """Cancel a trade booked by hand (an order's fill stays with its order)."""
    filled = select(OrderFill.order_id).where(OrderFill.trade_id == trade_id)
    if (order_id := await session.scalar(filled)) is not None:
        raise TradeOfAnOrder(details={"id": trade_id, "order_id": order_id})
    trade = await posting.cancel_trade(session, user.id, portfolio, trade_id, reason)
    ticker = await session.scalar(
        select(Instrument.ticker).where(Instrument.id == trade.instrument_id)
    )
    return read_model(trade, str(ticker))


def read_model(trade: Trade, ticker: str) -> TradeRead:
    return TradeRead(
        id=trade.id,
        ticker=ticker,
        side=trade.side,
        quantity=trade.quantity,
        price=trade.price,
        fees=trade.fees,
        trade_date=trade.trade_date,
        notes=trade.notes,
        external_id=trade.external_id,
        status=trade.status,
        created_by=trade.created_by,
        created_at=trade.created_at,
        cancelled_by=trade.cancelled_by,
        cancelled_at=trade.cancelled_at,
        cancel_reason=trade.cancel_reason,
    )


TRADE_COLUMNS = (
    Trade.id,
    Instrument.ticker,
    Trade.side,
    Trade.quantity,
    Trade.price,
    Trade.fees,
    Trade.trade_date,
    Trade.notes,
    Trade.external_id,
    Trade.status,
    Trade.created_by,
    Trade.created_at,
    Trade.cancelled_by,
    Trade.cancelled_at,
    Trade.cancel_reason,
)


def trades_query(portfolio_id: uuid.UUID, filters: dict[str, Any]) -> Select[Any]:
    query = (
        select(*TRADE_COLUMNS)
        .join(Instrument, Instrument.id == Trade.instrument_id)
        .where(Trade.portfolio_id == portfolio_id)
    )
    conditions: dict[str, Callable[[Any], Any]] = {
        "ticker": lambda v: Instrument.ticker == v.upper(),
        "side": lambda v: Trade.side == v,
        "status": lambda v: Trade.status == v,
        "start": lambda v: Trade.trade_date >= v,
        "end": lambda v: Trade.trade_date <= v,
    }
    for name, condition in conditions.items():
        if filters.get(name) is not None:
            query = query.where(condition(filters[name]))
    return query


async def list_trades(
    session: AsyncSession, portfolio_id: uuid.UUID, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[TradeRead], int]:
    query = trades_query(portfolio_id, filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(Trade.trade_date.desc(), Trade.id.desc()).limit(limit).offset(offset)
    )
    return [TradeRead.model_validate(dict(r)) for r in rows.mappings()], total or 0


async def get_trade(session: AsyncSession, portfolio_id: uuid.UUID, trade_id: int) -> TradeRead:
    row = (
        (await session.execute(trades_query(portfolio_id, {}).where(Trade.id == trade_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise posting.TradeNotFound(details={"id": trade_id})
    return TradeRead.model_validate(dict(row))
