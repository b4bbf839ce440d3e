"""Booking and cancelling trades: the cash and quantity rules, under the portfolio's lock."""

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record, snapshot
from app.core.database import utcnow
from app.core.errors import Conflict, NotFound
from app.market.models import Instrument
from app.market.provider import UnknownTicker, UnknownTickerInBooking
from app.market.service import MarketData
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from app.positions import service as positions
from app.positions.fold import Fill
from app.trades.models import Trade, TradeStatus
from app.trades.schemas import TradeCreate, TradeRead
from app.users.models import User

logger = logging.getLogger("folio.trades")

AUDITED = ("side", "quantity", "price", "fees", "trade_date", "notes", "status", "cancel_reason")


class InsufficientCash(Conflict):
    code = "insufficient_cash"
    message = "The portfolio does not have the cash, and negative cash is not allowed."


class TradeNotFound(NotFound):
    code = "trade_not_found"
    message = "No such trade in this portfolio."


class TradeAlreadyCancelled(Conflict):
    code = "trade_already_cancelled"
    message = "The trade is already cancelled."


class DuplicateExternalId(Conflict):
    code = "duplicate_external_id"
    message = "A trade with this external id is already booked in the portfolio."


def fill_of(trade: Trade | TradeCreate) -> Fill:
    side = trade.side.value
    return Fill(side, trade.quantity, trade.price, trade.fees, trade.trade_date)


def check_cash(portfolio: Portfolio, balance: Decimal) -> None:
    if balance < 0 and not portfolio.allow_negative_cash:
        raise InsufficientCash(details={"cash_balance": str(portfolio.cash_balance)})


async def instrument_for(session: AsyncSession, market: MarketData, ticker: str) -> Instrument:
    try:
        return await market.ensure_instrument(session, ticker)
    except UnknownTicker as exc:
        raise UnknownTickerInBooking(details={"ticker": ticker}) from exc


async def book(
    session: AsyncSession,
    market: MarketData,
    user: User,
    portfolio_id: uuid.UUID,
    data: TradeCreate,
) -> TradeRead:
    instrument = await instrument_for(session, market, data.ticker)
    portfolio = await portfolios.lock(session, portfolio_id)
    fill = fill_of(data)
    balance = portfolio.cash_balance + fill.cash_effect
    if fill.cash_effect < 0:
        check_cash(portfolio, balance)
    await _check_external_id(session, portfolio_id, data.external_id)
    trade = Trade(
        portfolio_id=portfolio_id,
        instrument_id=instrument.id,
        side=data.side,
        quantity=data.quantity,
        price=data.price,
        fees=data.fees,
        trade_date=data.trade_date,
        notes=data.notes,
        external_id=data.external_id,
        created_by=user.id,
        created_at=utcnow(),
    )
    session.add(trade)
    await session.flush()
    await positions.apply_trade(
        session, portfolio_id, instrument.id, fill, allow_short=portfolio.allow_short
    )
    portfolio.cash_balance = balance
    portfolio.invalidate_nav(data.trade_date)
    record(
        session,
        actor_id=user.id,
        action="trade.book",
        object_type="trade",
        object_id=trade.id,
        portfolio_id=portfolio_id,
        after=snapshot(trade, AUDITED) | {"ticker": instrument.ticker},
    )
    logger.info("trade booked", extra={"trade_id": trade.id, "portfolio_id": str(portfolio_id)})
    return read_model(trade, instrument.ticker)


async def cancel(
    session: AsyncSession, user: User, portfolio_id: uuid.UUID, trade_id: int, reason: str
) -> TradeRead:
    portfolio = await portfolios.lock(session, portfolio_id)
    trade = await session.scalar(
        select(Trade).where(Trade.id == trade_id, Trade.portfolio_id == portfolio_id)
    )
    if trade is None:
        raise TradeNotFound(details={"id": trade_id})
    if trade.status is TradeStatus.CANCELLED:
        raise TradeAlreadyCancelled(details={"id": trade_id})
    before = snapshot(trade, AUDITED)
    trade.status, trade.cancel_reason = TradeStatus.CANCELLED, reason
    trade.cancelled_by, trade.cancelled_at = user.id, utcnow()
    await session.flush()
    await positions.refold(
        session, portfolio_id, trade.instrument_id, allow_short=portfolio.allow_short
    )
    balance = portfolio.cash_balance - fill_of(trade).cash_effect
    check_cash(portfolio, balance)
    portfolio.cash_balance = balance
    portfolio.invalidate_nav(trade.trade_date)
    record(
        session,
        actor_id=user.id,
        action="trade.cancel",
        object_type="trade",
        object_id=trade.id,
        portfolio_id=portfolio_id,
        before=before,
        after=snapshot(trade, AUDITED),
    )
    logger.info("trade cancelled", extra={"trade_id": trade.id, "portfolio_id": str(portfolio_id)})
    ticker = await session.scalar(
        select(Instrument.ticker).where(Instrument.id == trade.instrument_id)
    )
    return read_model(trade, str(ticker))


async def _check_external_id(
    session: AsyncSession, portfolio_id: uuid.UUID, external_id: str | None
) -> None:
    if external_id is None:
        return
    taken = await session.scalar(
        select(Trade.id).where(Trade.portfolio_id == portfolio_id, Trade.external_id == external_id)
    )
    if taken is not None:
        raise DuplicateExternalId(details={"external_id": external_id, "trade_id": taken})


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
        raise TradeNotFound(details={"id": trade_id})
    return TradeRead.model_validate(dict(row))
