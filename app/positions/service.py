"""Read-only views of the ledger's projection: positions, open lots and realized lots."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import queries
from app.ledger.fold import ClosedLot, fold
from app.ledger.models import CostMethod
from app.portfolios.models import Portfolio


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
    for instrument_id, fills in (await queries.booked_fills(session, portfolio.id)).items():
        book = fold(fills, allow_short=True, method=method, keep_closed=True)
        closed += [
            (tickers[instrument_id], lot)
            for lot in book.closed
            if (start is None or lot.close_date >= start) and (end is None or lot.close_date <= end)
        ]
    return sorted(closed, key=lambda c: (c[1].close_date, c[0], c[1].open_date))
