"""Read-only views of the ledger's projection: positions, open lots and realized lots."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.ledger import actions, queries
from app.ledger.fold import ClosedLot, fold
from app.ledger.models import CostMethod
from app.market.calendar import last_final_date
from app.market.service import MarketData
from app.portfolios.models import Portfolio


async def with_actions(session: AsyncSession, market: MarketData, portfolio: Portfolio) -> None:
    """The books with every split known up to the last close folded in."""
    await actions.apply_splits(session, market, portfolio, last_final_date(utcnow()))


async def list_positions(
    session: AsyncSession, portfolio_id: uuid.UUID, *, include_closed: bool
) -> list[dict[str, Any]]:
    return [
        {
            "ticker": ticker,
            "instrument_id": instrument_id,
            "quantity": h.quantity,
            "cost_basis": h.cost_basis,
            "realized_pnl": h.realized_pnl,
            "opened_on": h.opened_on,
            "average_cost": h.average_cost,
        }
        for instrument_id, ticker, h in await queries.holdings(session, portfolio_id)
        if include_closed or h.quantity != 0
    ]


async def open_lots(
    session: AsyncSession, portfolio: Portfolio, ticker: str | None, as_of: date
) -> list[dict[str, Any]]:
    """Open lots, oldest first by ticker. Under average cost each lot carries the
    position's average cost; under FIFO its own."""
    averages = {}
    if portfolio.cost_method == CostMethod.AVERAGE:
        held = await queries.holdings(session, portfolio.id)
        averages = {instrument_id: h.average_cost for instrument_id, _, h in held}
    out = []
    for instrument_id, lot_ticker, lot in await queries.open_lots(session, portfolio.id, ticker):
        average = averages.get(instrument_id)
        cost = lot.cost if average is None else average * lot.quantity
        out.append(
            {
                "ticker": lot_ticker,
                "instrument_id": instrument_id,
                "trade_id": lot.trade_id,
                "open_date": lot.open_date,
                "quantity": lot.quantity,
                "cost_per_share": cost / lot.quantity,
                "cost": cost,
                "holding_days": (as_of - lot.open_date).days,
            }
        )
    return out


async def closed_lots(
    session: AsyncSession, portfolio: Portfolio, start: date | None, end: date | None
) -> list[tuple[str, ClosedLot]]:
    """Lots closed from `start` to `end` (by close date), folded from the booked history."""
    tickers = {i: t for i, t, _ in await queries.holdings(session, portfolio.id)}
    method = CostMethod(portfolio.cost_method)
    closed = []
    history = await queries.booked_fills(session, portfolio.id)
    splits = await queries.splits(session, list(history))
    for instrument_id, fills in history.items():
        split = [s for s, _ in splits.get(instrument_id, [])]
        book = fold(fills, allow_short=True, method=method, keep_closed=True, splits=split)
        closed += [
            (tickers[instrument_id], lot)
            for lot in book.closed
            if (start is None or lot.close_date >= start) and (end is None or lot.close_date <= end)
        ]
    return sorted(closed, key=lambda c: (c[1].close_date, c[0], c[1].open_date))
