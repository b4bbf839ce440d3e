"""The paper broker's run: working orders filled against stored daily bars, up to a date.

Each ticker's bars are read first, with no transaction open (they may come from the vendor).
Then each portfolio in turn, under its row lock: its working orders, oldest first, on each
day's bar by the fill rules of app/backtests/fills.py, every fill booked through the ledger.
A fill the ledger refuses (cash, quantity) rejects the order; a day order not filled on its
bar expires. Executions are named by order and date, so a run repeated books nothing twice.
"""

import bisect
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.backtests.fills import Fill, OrderKind, PricedBar, fill_bar, on_bar
from app.core.errors import DomainError
from app.ledger.models import Side
from app.market import history
from app.market.history import Wanted
from app.market.models import Instrument
from app.market.provider import Bar
from app.market.service import MarketData
from app.orders import service, states
from app.orders.broker import PAPER, Execution
from app.orders.models import Order, OrderStatus, TimeInForce
from app.orders.schemas import PaperRunRead
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioArchived

COMMISSION_PLACES = Decimal("1e-8")
FILLABLE = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@dataclass
class Tally:
    portfolios: int = 0
    fills: int = 0
    expired: int = 0
    rejected: int = 0


class Tape:
    """Each ticker's bars of the run, by date."""

    def __init__(self, bars: dict[str, list[Bar]]) -> None:
        self.days = {t: [b.date for b in found] for t, found in bars.items()}
        self.bars = {t: {b.date: b for b in found} for t, found in bars.items()}

    def first_day(self, ticker: str, placed_on: date) -> date | None:
        """The bar an order placed on that day works from: the next one after it."""
        days = self.days.get(ticker, [])
        decided_on = bisect.bisect_right(days, placed_on) - 1
        first = fill_bar(decided_on, Fill.NEXT_OPEN)
        return days[first] if first < len(days) else None


async def run(
    sessions: async_sessionmaker[AsyncSession],
    market: MarketData,
    through: date,
    rate: Decimal,
    portfolio_ids: Collection[uuid.UUID] | None = None,
) -> PaperRunRead:
    """Fill the paper broker's working orders on the bars up to `through` (all portfolios,
    or those named)."""
    async with sessions() as session:
        working = await _working(session, portfolio_ids)
        starts: dict[int, Wanted] = {}
        for _, instrument, ticker, placed_on in working:
            start = min(placed_on, starts[instrument].start) if instrument in starts else placed_on
            starts[instrument] = Wanted(ticker, start, through)
        bars, _ = await history.traded(market, session, starts)
    tape = Tape({starts[i].ticker: found for i, found in bars.items()})
    tally = Tally()
    for portfolio_id in sorted({p for p, _, _, _ in working}):
        async with sessions() as session, session.begin():
            try:
                portfolio = await portfolios.lock(session, portfolio_id)
            except PortfolioArchived:  # its orders wait, as its books do
                continue
            await _run_portfolio(session, portfolio, tape, through, rate, tally)
            tally.portfolios += 1
    return PaperRunRead(
        through=through,
        portfolios=tally.portfolios,
        fills=tally.fills,
        expired=tally.expired,
        rejected=tally.rejected,
    )


async def _working(
    session: AsyncSession, portfolio_ids: Collection[uuid.UUID] | None
) -> list[tuple[uuid.UUID, int, str, date]]:
    """The paper broker's orders that are working, or legs that may be armed in the run."""
    query = (
        select(Order.portfolio_id, Order.instrument_id, Instrument.ticker, Order.placed_on)
        .join(Instrument, Instrument.id == Order.instrument_id)
        .where(Order.broker == PAPER, _open())
    )
    if portfolio_ids is not None:
        query = query.where(Order.portfolio_id.in_(list(portfolio_ids)))
    return [(p, i, t, d) for p, i, t, d in await session.execute(query)]


def _open() -> ColumnElement[bool]:
    waiting_leg = (Order.status == OrderStatus.NEW) & Order.parent_id.is_not(None)
    return or_(Order.status.in_(FILLABLE), waiting_leg)


async def _run_portfolio(
    session: AsyncSession,
    portfolio: Portfolio,
    tape: Tape,
    through: date,
    rate: Decimal,
    tally: Tally,
) -> None:
    rows = await session.execute(
        select(Order, Instrument.ticker)
        .join(Instrument, Instrument.id == Order.instrument_id)
        .where(Order.portfolio_id == portfolio.id, Order.broker == PAPER, _open())
        .order_by(Order.id)
    )
    orders = [(order, ticker) for order, ticker in rows.all()]
    days = sorted({d for _, t in orders for d in tape.days.get(t, []) if d <= through})
    for day in days:
        for order, ticker in orders:
            if order.status in FILLABLE:
                await _on_day(session, portfolio, order, ticker, tape, day, rate, tally)


async def _on_day(
    session: AsyncSession,
    portfolio: Portfolio,
    order: Order,
    ticker: str,
    tape: Tape,
    day: date,
    rate: Decimal,
    tally: Tally,
) -> None:
    first = tape.first_day(ticker, order.placed_on)
    bar = tape.bars.get(ticker, {}).get(day)
    if first is None or day < first or bar is None:
        return
    priced = PricedBar(bar.open, bar.high, bar.low)
    buy = order.side is Side.BUY
    armed = order.armed_on is not None
    outcome = on_bar(OrderKind(order.type), buy, priced, order.limit_price, order.stop_price, armed)
    if outcome.armed and not armed:
        order.armed_on = day
    if outcome.price is not None:
        await _fill(session, portfolio, order, day, outcome.price, rate, tally)
    elif order.time_in_force is TimeInForce.DAY and day == first:
        await service.expire(session, order, day)
        tally.expired += 1


async def _fill(
    session: AsyncSession,
    portfolio: Portfolio,
    order: Order,
    day: date,
    price: Decimal,
    rate: Decimal,
    tally: Tally,
) -> None:
    quantity = order.quantity - order.filled_quantity
    commission = (quantity * price * rate).quantize(COMMISSION_PLACES).normalize()
    execution = Execution(f"{PAPER}-{order.id}-{day.isoformat()}", day, quantity, price, commission)
    try:
        async with session.begin_nested():
            if await service.execute(session, portfolio.id, order.id, execution):
                tally.fills += 1
    except DomainError as refused:  # the ledger's rules: cash, quantity
        await session.refresh(portfolio)
        await session.refresh(order)
        if order.status in states.TRANSITIONS_TO_REJECT:
            await service.reject(session, order, refused.code, refused.message)
            tally.rejected += 1
