"""What a NAV series is computed from: holdings and cash now, and every later change.

On PostgreSQL the database returns each instrument's trades as arrays of day numbers and
integer quantities, and the trades' cash effects summed by day (exact NUMERIC); elsewhere,
and for a quantity too large for 64-bit integers, each trade is read here and its Fill gives
its cash effect.
"""

import uuid
from datetime import date
from decimal import Decimal

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.series import Book, CashEvent, Ints, TradeMoves, fewest_places, trade_moves
from app.cash.models import CashTransaction
from app.market.models import Instrument
from app.positions.fold import Fill
from app.positions.models import Position
from app.trades.models import Trade, TradeStatus

QUANTITY_PLACES = 8  # the most a trade's quantity may have (the API's limit)

_QUANTITIES = """
SELECT instrument_id,
       array_agg(trade_date - DATE '1970-01-01'),
       array_agg(CASE WHEN quantity < 9e10 AND quantity * 1e8 = round(quantity * 1e8)
                      THEN (quantity * 1e8)::bigint * CASE WHEN side = 'buy' THEN 1 ELSE -1 END
                 END)
FROM trades
WHERE portfolio_id = :portfolio AND status = 'booked' AND trade_date > :cut
GROUP BY instrument_id
"""
_CASH = """
SELECT trade_date - DATE '1970-01-01',
       sum(CASE WHEN side = 'buy' THEN -(quantity * price) - fees ELSE quantity * price - fees END)
FROM trades
WHERE portfolio_id = :portfolio AND status = 'booked' AND trade_date > :cut
GROUP BY trade_date
"""


async def load(
    session: AsyncSession, portfolio_id: uuid.UUID, cash: Decimal, cut: date | None
) -> Book:
    """The holdings now (every instrument ever traded), and what changed after `cut`."""
    held = (
        await session.execute(
            select(Position.instrument_id, Instrument.ticker, Position.quantity)
            .join(Instrument, Instrument.id == Position.instrument_id)
            .where(Position.portfolio_id == portfolio_id)
            .order_by(Position.instrument_id)
        )
    ).all()
    column = {instrument: i for i, (instrument, _, _) in enumerate(held)}
    trades = None
    if session.get_bind().dialect.name == "postgresql":
        trades = await _arrayed_trades(session, portfolio_id, cut, column)
    if trades is None:
        trades = await _each_trade(session, portfolio_id, cut, column)
    return Book(
        instruments=[instrument for instrument, _, _ in held],
        tickers=[ticker for _, ticker, _ in held],
        quantities=[quantity for _, _, quantity in held],
        cash=cash,
        trades=trades,
        cash_events=await _cash_events(session, portfolio_id, cut),
    )


async def _arrayed_trades(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None, column: dict[int, int]
) -> TradeMoves | None:
    """Trades as the database arrays them, or None when a quantity does not fit."""
    params = {"portfolio": portfolio_id, "cut": cut or date.min}
    rows = (await session.execute(text(_QUANTITIES), params)).all()
    if any(None in quantities for _, _, quantities in rows):
        return None
    cash = (await session.execute(text(_CASH), params)).all()
    quantity, scale = fewest_places(_joined([q for _, _, q in rows]), QUANTITY_PLACES)
    return TradeMoves(
        column=_joined([[column[i]] * len(d) for i, d, _ in rows]),
        day=_joined([d for _, d, _ in rows]),
        quantity=quantity,
        scale=scale,
        cash_day=np.array([d for d, _ in cash], dtype=np.int64),
        cash=[amount for _, amount in cash],
    )


def _joined(parts: list[list[int]]) -> Ints:
    return np.array([v for part in parts for v in part], dtype=np.int64)


async def _each_trade(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None, column: dict[int, int]
) -> TradeMoves:
    query = select(
        Trade.instrument_id, Trade.trade_date, Trade.side, Trade.quantity, Trade.price, Trade.fees
    ).where(Trade.portfolio_id == portfolio_id, Trade.status == TradeStatus.BOOKED)
    if cut is not None:
        query = query.where(Trade.trade_date > cut)
    fills = [
        (column[instrument], Fill(side.value, quantity, price, fees, day))
        for instrument, day, side, quantity, price, fees in await session.execute(query)
    ]
    return trade_moves([(c, f.trade_date, f.signed_quantity, f.cash_effect) for c, f in fills])


async def _cash_events(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None
) -> list[CashEvent]:
    query = select(CashTransaction.date, CashTransaction.type, CashTransaction.amount).where(
        CashTransaction.portfolio_id == portfolio_id
    )
    if cut is not None:
        query = query.where(CashTransaction.date > cut)
    return [
        CashEvent(day, kind.sign * amount, kind.external)
        for day, kind, amount in await session.execute(query)
    ]
