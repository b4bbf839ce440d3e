"""What a NAV series is computed from: holdings and cash now, and every later change.

On PostgreSQL the database returns each instrument's trades as arrays of day numbers and
integer quantities, and the trades' cash effects summed by day (exact NUMERIC); elsewhere,
and for a quantity too large for 64-bit integers, each trade is read here and its Fill gives
its cash effect. A split adds the shares it creates (or takes away) on its ex-date, as the
ledger's fold of the instrument's whole history says: a move of quantity without cash.
"""

import uuid
from datetime import date
from decimal import Decimal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.series import Book, CashEvent, Ints, TradeMoves, int_array, scaled, trade_moves
from app.ledger import queries
from app.ledger.fold import fold
from app.market.history import fewest_places, places

QUANTITY_PLACES = 8  # the most a trade's quantity may have (the API's limit)


async def load(
    session: AsyncSession, portfolio_id: uuid.UUID, cash: Decimal, cut: date | None
) -> Book:
    """The holdings now (every instrument ever traded), and what changed after `cut`."""
    held = sorted(await queries.holdings(session, portfolio_id))
    column = {instrument: i for i, (instrument, _, _) in enumerate(held)}
    trades = None
    if queries.is_postgres(session):
        trades = await _arrayed_trades(session, portfolio_id, cut, column)
    if trades is None:
        trades = await _each_trade(session, portfolio_id, cut, column)
    trades = await _with_splits(session, portfolio_id, cut, column, trades)
    return Book(
        instruments=[instrument for instrument, _, _ in held],
        tickers=[ticker for _, ticker, _ in held],
        quantities=[h.quantity for _, _, h in held],
        cash=cash,
        trades=trades,
        cash_events=[
            CashEvent(day, kind.sign * amount, kind.external)
            for day, kind, amount in await queries.cash_after(session, portfolio_id, cut)
        ],
    )


async def _arrayed_trades(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None, column: dict[int, int]
) -> TradeMoves | None:
    """Trades as the database arrays them, or None when a quantity does not fit."""
    rows = await queries.quantity_arrays(session, portfolio_id, cut, QUANTITY_PLACES)
    if any(None in quantities for _, _, quantities in rows):
        return None
    cash = await queries.trade_cash_by_day(session, portfolio_id, cut)
    quantity, scale = fewest_places(_joined([q for _, _, q in rows]), QUANTITY_PLACES)  # type: ignore[misc]
    epoch = date(1970, 1, 1)
    return TradeMoves(
        column=_joined([[column[i]] * len(d) for i, d, _ in rows]),
        day=_joined([d for _, d, _ in rows]),
        quantity=quantity,
        scale=scale,
        cash_day=np.array([(d - epoch).days for d, _ in cash], dtype=np.int64),
        cash=[amount for _, amount in cash],
    )


def _joined(parts: list[list[int]]) -> Ints:
    return np.array([v for part in parts for v in part], dtype=np.int64)


async def _each_trade(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None, column: dict[int, int]
) -> TradeMoves:
    fills = await queries.fills_after(session, portfolio_id, cut)
    return trade_moves(
        [(column[i], f.trade_date, f.signed_quantity, f.cash_effect) for i, f in fills]
    )


async def _with_splits(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    cut: date | None,
    column: dict[int, int],
    trades: TradeMoves,
) -> TradeMoves:
    """The trades and, as quantity-only moves, what each split after `cut` changed."""
    splits = await queries.splits(session, list(column))
    splitting = [
        i for i, found in splits.items() if any(cut is None or s.ex_date > cut for s, _ in found)
    ]
    if not splitting:
        return trades
    history = await queries.booked_fills(session, portfolio_id, splitting)
    moves = [
        (column[i], day, moved)
        for i in splitting
        for day, moved in fold(
            history.get(i, []), allow_short=True, splits=[s for s, _ in splits[i]]
        ).split_moves
        if cut is None or day > cut
    ]
    if not moves:
        return trades
    scale = max(trades.scale, places(m for _, _, m in moves))
    factor = 10 ** (scale - trades.scale)
    added = scaled([m for _, _, m in moves], scale)
    old = [int(q) * factor for q in trades.quantity.tolist()]
    epoch = date(1970, 1, 1)
    return TradeMoves(
        column=np.concatenate([trades.column, np.array([c for c, _, _ in moves], dtype=np.int64)]),
        day=np.concatenate(
            [trades.day, np.array([(d - epoch).days for _, d, _ in moves], dtype=np.int64)]
        ),
        quantity=int_array(old + added, sum(map(abs, old + added))),
        scale=scale,
        cash_day=trades.cash_day,
        cash=trades.cash,
    )
