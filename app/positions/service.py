"""Keeping positions equal to the fold of their booked trades, and reading them."""

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.market.models import Instrument
from app.positions.fold import Fill, Holding, fold
from app.positions.models import Position
from app.trades.models import Trade, TradeStatus


def holding_of(position: Position | None) -> Holding:
    if position is None:
        return Holding()
    return Holding(
        position.quantity,
        position.cost_basis,
        position.realized_pnl,
        position.opened_on,
        position.last_trade_date,
    )


async def booked_fills(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_id: int
) -> list[Fill]:
    rows = await session.execute(
        select(Trade.side, Trade.quantity, Trade.price, Trade.fees, Trade.trade_date)
        .where(
            Trade.portfolio_id == portfolio_id,
            Trade.instrument_id == instrument_id,
            Trade.status == TradeStatus.BOOKED,
        )
        .order_by(Trade.trade_date, Trade.id)
    )
    return [Fill(r.side.value, r.quantity, r.price, r.fees, r.trade_date) for r in rows]


async def apply_trade(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    instrument_id: int,
    fill: Fill,
    *,
    allow_short: bool,
) -> Holding:
    """Fold a just-inserted trade into its position: extend the fold when it is the latest,
    else re-fold that one instrument's history."""
    position = await session.get(Position, (portfolio_id, instrument_id))
    current = holding_of(position)
    if current.last_trade_date is None or fill.trade_date >= current.last_trade_date:
        holding = fold([fill], allow_short=allow_short, start=current)
    else:
        holding = fold(
            await booked_fills(session, portfolio_id, instrument_id), allow_short=allow_short
        )
    save(session, position, portfolio_id, instrument_id, holding)
    return holding


async def refold(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_id: int, *, allow_short: bool
) -> Holding:
    position = await session.get(Position, (portfolio_id, instrument_id))
    fills = await booked_fills(session, portfolio_id, instrument_id)
    holding = fold(fills, allow_short=allow_short)
    save(session, position, portfolio_id, instrument_id, holding)
    return holding


def save(
    session: AsyncSession,
    position: Position | None,
    portfolio_id: uuid.UUID,
    instrument_id: int,
    holding: Holding,
) -> None:
    if position is None:
        position = Position(portfolio_id=portfolio_id, instrument_id=instrument_id)
        session.add(position)
    position.quantity = holding.quantity
    position.cost_basis = holding.cost_basis
    position.realized_pnl = holding.realized_pnl
    position.opened_on = holding.opened_on
    position.last_trade_date = holding.last_trade_date


async def list_positions(
    session: AsyncSession, portfolio_id: uuid.UUID, *, include_closed: bool
) -> list[dict[str, Any]]:
    query = (
        select(
            Instrument.ticker,
            Instrument.id.label("instrument_id"),
            Position.quantity,
            Position.cost_basis,
            Position.realized_pnl,
            Position.opened_on,
            Position.updated_at,
        )
        .join(Instrument, Instrument.id == Position.instrument_id)
        .where(Position.portfolio_id == portfolio_id)
        .order_by(Instrument.ticker)
    )
    rows = (await session.execute(query)).mappings().all()
    return [
        dict(row) | {"average_cost": _average(row["cost_basis"], row["quantity"])}
        for row in rows
        if include_closed or row["quantity"] != 0
    ]


def _average(basis: Decimal, quantity: Decimal) -> Decimal:
    return basis / quantity if quantity else Decimal(0)


async def held_tickers(session: AsyncSession) -> list[str]:
    """Every ticker some portfolio holds, long or short, in alphabetical order."""
    rows = await session.execute(
        select(Instrument.ticker, Position.quantity).join(
            Instrument, Instrument.id == Position.instrument_id
        )
    )
    return sorted({ticker for ticker, quantity in rows if quantity != 0})
