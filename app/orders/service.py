"""Orders: checked against the portfolio's policy, sent to their broker, filled into the
ledger.

Every change of an order happens under its portfolio's row lock, is written as an event in
the same transaction, and moves the order's status by the fold of app/orders/states.py. A
fill books its trade through the ledger in that transaction too, so an order, its fills,
positions and cash never disagree. Services never commit: the caller's unit of work does.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.valuation import settled
from app.audit.service import record
from app.backtests.fills import OrderKind
from app.core.database import utcnow
from app.core.errors import Conflict, NotFound
from app.ledger import posting, queries
from app.ledger.models import Side
from app.market import history
from app.market.calendar import new_york_date
from app.market.models import Instrument
from app.market.service import MarketData
from app.orders import policy, states
from app.orders.broker import BROKERS, PAPER, Execution
from app.orders.models import (
    Leg,
    Order,
    OrderClass,
    OrderEvent,
    OrderEventType,
    OrderFill,
    OrderStatus,
    TimeInForce,
)
from app.orders.policy import Book, CheckRead, Policy, Proposed
from app.orders.schemas import OrderEventRead, OrderRead, OrderRequest
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio

E, S = OrderEventType, OrderStatus
PRICE_PLACES = Decimal("1e-8")


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No such order in this portfolio."


class FillExceedsOrder(Conflict):
    code = "fill_exceeds_order"
    message = "The fill is for more than the order has left to fill."


# The pre-trade check


async def book_at_close(
    session: AsyncSession, market: MarketData, portfolio: Portfolio, instrument: Instrument
) -> Book:
    """The portfolio's open positions and cash, each ticker's last final close, and their
    sectors."""
    held = [(i, t, h.quantity) for i, t, h in await queries.holdings(session, portfolio.id)]
    tickers = {i: t for i, t, q in held if q} | {instrument.id: instrument.ticker}
    closes, _ = await history.recent(market, session, tickers, settled())
    sectors = await session.execute(
        select(Instrument.ticker, Instrument.sector).where(Instrument.id.in_(list(tickers)))
    )
    return Book(
        cash=portfolio.cash_balance,
        quantities={t: q for _, t, q in held if q},
        closes={tickers[i]: found[0][1] for i, found in closes.items() if found},
        sectors={t: s for t, s in sectors if s},
        allow_short=portfolio.allow_short,
        allow_negative_cash=portfolio.allow_negative_cash,
    )


async def check(
    session: AsyncSession,
    market: MarketData,
    portfolio: Portfolio,
    instrument: Instrument,
    order: OrderRequest | Order,
) -> CheckRead:
    """The check of an order asked for, or of one placed (an override checks it again)."""
    book = await book_at_close(session, market, portfolio, instrument)
    proposed = Proposed(
        instrument.ticker,
        order.side,
        OrderKind(order.type),
        order.quantity,
        order.limit_price,
        order.stop_price,
    )
    return policy.check(policy_of(portfolio), book, proposed)


def policy_of(portfolio: Portfolio) -> Policy:
    return Policy.model_validate(portfolio.policy)


async def change_policy(
    session: AsyncSession, actor_id: uuid.UUID, portfolio: Portfolio, new: Policy
) -> Policy:
    """Replace the policy of a portfolio whose row the caller has locked (audited)."""
    before = portfolio.policy
    portfolio.policy = new.model_dump(mode="json", exclude_none=True)
    await session.flush()
    await record(
        session,
        actor_id=actor_id,
        action="policy.update",
        object_type="portfolio",
        object_id=portfolio.id,
        portfolio_id=portfolio.id,
        before=before,
        after=portfolio.policy,
    )
    return new


# Placing, overriding, cancelling


async def place(
    session: AsyncSession,
    market: MarketData,
    portfolio: Portfolio,
    instrument: Instrument,
    request: OrderRequest,
    placed_by: uuid.UUID,
    *,
    strategy_id: int | None = None,
    signal_id: int | None = None,
    client_id: str | None = None,
    now: datetime | None = None,
) -> tuple[OrderRead, bool]:
    """Place an order (True) or find the one placed with its `client_order_id` (False);
    `client_id` names one of Folio's own. The check runs under the portfolio's lock, its
    closes read before it."""
    portfolio_id = portfolio.id
    client_id = client_id or request.client_order_id or uuid.uuid4().hex
    if (found := await _by_client_id(session, portfolio_id, client_id)) is not None:
        return found, False
    await book_at_close(session, market, portfolio, instrument)
    portfolio = await portfolios.lock(session, portfolio_id)
    if (found := await _by_client_id(session, portfolio_id, client_id)) is not None:
        return found, False
    result = await check(session, market, portfolio, instrument, request)
    now = now or utcnow()
    order = await _new_order(session, portfolio, instrument, request, client_id, placed_by, now)
    order.strategy_id, order.signal_id = strategy_id, signal_id
    legs = await _new_legs(session, portfolio, order, request, now)
    await _decide(session, order, result, placed_by, request.override_reason, legs)
    return await get(session, portfolio_id, order.id), True


async def override(
    session: AsyncSession,
    market: MarketData,
    portfolio: Portfolio,
    order_id: int,
    actor_id: uuid.UUID,
    reason: str,
) -> OrderRead:
    """Accept an order held for a soft breach: the check runs again on current prices, and a
    hard breach now denies it."""
    portfolio_id = portfolio.id
    order = await _order(session, portfolio_id, order_id)
    instrument = await session.get_one(Instrument, order.instrument_id)
    await book_at_close(session, market, portfolio, instrument)
    portfolio = await portfolios.lock(session, portfolio_id)
    order = await _order(session, portfolio_id, order_id, fresh=True)
    states.step(order.status, E.OVERRIDDEN)  # an order not held is refused before any work
    result = await check(session, market, portfolio, instrument, order)
    legs = await _legs(session, order.id)
    await _decide(session, order, result, actor_id, reason, legs)
    return await get(session, portfolio_id, order.id)


async def cancel(
    session: AsyncSession, portfolio: Portfolio, order_id: int, actor_id: uuid.UUID
) -> OrderRead:
    """Cancel an order of a portfolio whose row the caller has locked (the fills stay)."""
    order = await _order(session, portfolio.id, order_id, fresh=True)
    await _cancel(session, order, actor_id, {"reason": "requested"})
    return await get(session, portfolio.id, order.id)


async def _decide(
    session: AsyncSession,
    order: Order,
    result: CheckRead,
    by: uuid.UUID,
    reason: str | None,
    legs: Sequence[Order],
) -> None:
    """Deny, hold or send an order after its check; a reason overrides a soft breach."""
    order.checks = result.model_dump(mode="json", by_alias=True)
    failed = [r.rule for r in result.results if not r.passed]
    if result.hard_breach:
        await _event(session, order, E.DENIED, by, {"failed": failed})
        await _end_legs(session, legs, "the order was denied")
        return
    if result.soft_breach and order.status is S.NEW:
        await _event(session, order, E.HELD, by, {"failed": failed})
    if order.status is S.PENDING_APPROVAL:
        if reason is None:
            return
        await _event(session, order, E.OVERRIDDEN, by, {"reason": reason, "failed": failed})
    else:
        await _event(session, order, E.ACCEPTED, by, {})
    await _submit(order)


async def _submit(order: Order) -> None:
    order.broker_order_id = await BROKERS[order.broker].submit(order)
    order.submitted_at = utcnow()


async def _cancel(
    session: AsyncSession, order: Order, by: uuid.UUID | None, data: dict[str, Any]
) -> None:
    """An order not yet at the broker is canceled; one working there is asked to cancel."""
    if order.status in (S.NEW, S.PENDING_APPROVAL):
        await _event(session, order, E.CANCELED, by, data)
    else:
        await _event(session, order, E.CANCEL_REQUESTED, by, data)
        if not await BROKERS[order.broker].cancel(order):
            return
        await _event(session, order, E.CANCELED, None, {"broker": order.broker})
    order.canceled_at = utcnow()
    await _end_legs(session, await _legs(session, order.id), "the order was canceled")


# What the broker reports


async def execute(
    session: AsyncSession, portfolio_id: uuid.UUID, order_id: int, execution: Execution
) -> bool:
    """What a broker reports: an execution of an order, booked under the portfolio's lock;
    False when its execution id was booked already."""
    portfolio = await portfolios.lock(session, portfolio_id)
    order = await _order(session, portfolio_id, order_id, fresh=True)
    return await _fill(session, portfolio, order, execution)


async def _fill(
    session: AsyncSession, portfolio: Portfolio, order: Order, execution: Execution
) -> bool:
    """Book an execution of an order of a portfolio whose row the caller has locked; False
    when its execution id was booked already. The ledger's rules (cash, quantity) apply."""
    booked = select(OrderFill.id).where(OrderFill.execution_id == execution.execution_id)
    if await session.scalar(booked) is not None:
        return False
    left = order.quantity - order.filled_quantity
    if execution.quantity > left:
        raise FillExceedsOrder(details={"order_id": order.id, "left": str(left)})
    filled = order.filled_quantity + execution.quantity
    states.step(order.status, E.FILL, filled, order.quantity)
    ticker = await session.scalar(
        select(Instrument.ticker).where(Instrument.id == order.instrument_id)
    )
    trade = posting.NewTrade(
        order.instrument_id,
        str(ticker),
        order.side,
        execution.quantity,
        execution.price,
        execution.commission,
        execution.day,
        f"order {order.id} ({order.client_order_id}), execution {execution.execution_id}",
    )
    posted = await posting.post_trades(session, order.placed_by, portfolio, [trade])
    session.add(
        OrderFill(
            order_id=order.id,
            execution_id=execution.execution_id,
            date=execution.day,
            quantity=execution.quantity,
            price=execution.price,
            commission=execution.commission,
            trade_id=posted.ids[0],
        )
    )
    paid = (
        order.filled_quantity * (order.filled_avg_price or 0) + execution.quantity * execution.price
    )
    order.filled_avg_price = (paid / filled).quantize(PRICE_PLACES, ROUND_HALF_EVEN).normalize()
    order.filled_quantity = filled
    data = {
        "execution_id": execution.execution_id,
        "date": execution.day.isoformat(),
        "quantity": str(execution.quantity),
        "price": str(execution.price),
        "commission": str(execution.commission),
        "trade_id": posted.ids[0],
    }
    await _event(session, order, E.FILL, None, data)
    if order.status is S.FILLED:
        order.filled_at = utcnow()
        await _filled(session, order, execution.day)
    return True


async def _filled(session: AsyncSession, order: Order, day: date) -> None:
    """A filled bracket arms its legs (they work from the next bar); a filled leg cancels
    the other."""
    if order.parent_id is None:
        for leg in await _legs(session, order.id):
            if leg.status is S.NEW:
                leg.placed_on = day
                await _event(session, leg, E.ACCEPTED, None, {"armed_by": order.id})
                await _submit(leg)
        return
    for other in await _legs(session, order.parent_id):
        if other.id != order.id and other.status not in states.FINAL:
            await _cancel(session, other, None, {"reason": f"order {order.id} filled"})


async def expire(session: AsyncSession, order: Order, day: date) -> None:
    await _event(session, order, E.EXPIRED, None, {"date": day.isoformat()})
    order.expired_at = utcnow()
    await _end_legs(session, await _legs(session, order.id), "the order expired")


async def reject(session: AsyncSession, order: Order, code: str, message: str) -> None:
    await _event(session, order, E.REJECTED, None, {"code": code, "message": message})
    await _end_legs(session, await _legs(session, order.id), "the order was rejected")


async def _end_legs(session: AsyncSession, legs: Sequence[Order], why: str) -> None:
    """Legs still waiting for their parent's fill end with it."""
    for leg in legs:
        if leg.status is S.NEW:
            await _event(session, leg, E.CANCELED, None, {"reason": why})
            leg.canceled_at = utcnow()


# Events


async def _event(
    session: AsyncSession,
    order: Order,
    type: OrderEventType,
    by: uuid.UUID | None,
    data: dict[str, Any],
) -> None:
    """Move the order by one event, written with its audit record in this transaction."""
    order.status = states.step(order.status, type, order.filled_quantity, order.quantity)
    await _write(session, order, type, by, data)


async def _write(
    session: AsyncSession,
    order: Order,
    type: OrderEventType,
    by: uuid.UUID | None,
    data: dict[str, Any],
) -> None:
    session.add(OrderEvent(order_id=order.id, type=type, by=by, data=data))
    await record(
        session,
        actor_id=by,
        action=f"order.{type.value}",
        object_type="order",
        object_id=order.id,
        portfolio_id=order.portfolio_id,
        after={"status": order.status.value} | data,
    )
    await session.flush()


async def _new_order(
    session: AsyncSession,
    portfolio: Portfolio,
    instrument: Instrument,
    request: OrderRequest,
    client_id: str,
    placed_by: uuid.UUID,
    now: datetime,
) -> Order:
    order = Order(
        portfolio_id=portfolio.id,
        client_order_id=client_id,
        instrument_id=instrument.id,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        order_class=request.order_class,
        quantity=request.quantity,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        status=states.step(None, E.PLACED),
        filled_quantity=Decimal(0),
        placed_by=placed_by,
        placed_on=new_york_date(now),
        broker=PAPER,
        created_at=now,
    )
    session.add(order)
    await session.flush()
    await _placed(session, order, placed_by, request)
    return order


async def _placed(
    session: AsyncSession, order: Order, by: uuid.UUID, request: OrderRequest | None
) -> None:
    data: dict[str, Any] = {"client_order_id": order.client_order_id}
    if request is not None:
        data["request"] = request.model_dump(mode="json", exclude_none=True)
    await _write(session, order, E.PLACED, by, data)


async def _new_legs(
    session: AsyncSession,
    portfolio: Portfolio,
    parent: Order,
    request: OrderRequest,
    now: datetime,
) -> list[Order]:
    """A bracket's children, on the other side, waiting in `new` for the parent's fill (the
    stop-loss first: on a bar that reaches both, it is the one taken)."""
    side = Side.SELL if request.side is Side.BUY else Side.BUY
    wanted: list[tuple[Leg, OrderKind, Decimal | None, Decimal | None]] = []
    if request.stop_loss is not None:
        wanted.append((Leg.STOP_LOSS, OrderKind.STOP, None, request.stop_loss.stop_price))
    if request.take_profit is not None:
        wanted.append((Leg.TAKE_PROFIT, OrderKind.LIMIT, request.take_profit.limit_price, None))
    legs = []
    for leg, kind, limit, stop in wanted:
        order = Order(
            portfolio_id=portfolio.id,
            client_order_id=f"{parent.client_order_id}:{leg.value}",
            parent_id=parent.id,
            leg=leg,
            instrument_id=parent.instrument_id,
            side=side,
            type=kind,
            time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            quantity=parent.quantity,
            limit_price=limit,
            stop_price=stop,
            status=states.step(None, E.PLACED),
            filled_quantity=Decimal(0),
            placed_by=parent.placed_by,
            strategy_id=parent.strategy_id,
            placed_on=parent.placed_on,
            broker=parent.broker,
            created_at=now,
        )
        session.add(order)
        await session.flush()
        await _placed(session, order, parent.placed_by, None)
        legs.append(order)
    return legs


# Reads


async def _order(
    session: AsyncSession, portfolio_id: uuid.UUID, order_id: int, *, fresh: bool = False
) -> Order:
    query = select(Order).where(Order.id == order_id, Order.portfolio_id == portfolio_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    order = await session.scalar(query)
    if order is None:
        raise OrderNotFound(details={"id": order_id})
    return order


async def _legs(session: AsyncSession, parent_id: int) -> list[Order]:
    found = await session.scalars(
        select(Order).where(Order.parent_id == parent_id).order_by(Order.id)
    )
    return list(found)


async def _by_client_id(
    session: AsyncSession, portfolio_id: uuid.UUID, client_id: str
) -> OrderRead | None:
    found = await session.scalar(
        select(Order.id).where(
            Order.portfolio_id == portfolio_id, Order.client_order_id == client_id
        )
    )
    return None if found is None else await get(session, portfolio_id, found)


async def get(session: AsyncSession, portfolio_id: uuid.UUID, order_id: int) -> OrderRead:
    found, _ = await _read(session, portfolio_id, Order.id == order_id, 1, 0)
    if not found:
        raise OrderNotFound(details={"id": order_id})
    return found[0]


async def list_orders(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    status: OrderStatus | None,
    ticker: str | None,
    limit: int,
    offset: int,
) -> tuple[list[OrderRead], int]:
    conditions: list[ColumnElement[bool]] = [Order.parent_id.is_(None)]
    if status is not None:
        conditions.append(Order.status == status)
    if ticker is not None:
        conditions.append(Instrument.ticker == ticker.upper())
    return await _read(session, portfolio_id, conditions, limit, offset)


async def _read(
    session: AsyncSession, portfolio_id: uuid.UUID, where: Any, limit: int, offset: int
) -> tuple[list[OrderRead], int]:
    """Orders newest first, each with its legs."""
    conditions = where if isinstance(where, list) else [where]
    query = (
        select(Order, Instrument.ticker)
        .join(Instrument, Instrument.id == Order.instrument_id)
        .where(Order.portfolio_id == portfolio_id, *conditions)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.execute(query.order_by(Order.id.desc()).limit(limit).offset(offset))
    ).all()
    parents = [order.id for order, _ in rows]
    legs: dict[int, list[OrderRead]] = {}
    if parents:
        found = await session.execute(
            select(Order, Instrument.ticker)
            .join(Instrument, Instrument.id == Order.instrument_id)
            .where(Order.parent_id.in_(parents))
            .order_by(Order.id)
        )
        for leg, ticker in found.all():
            assert leg.parent_id is not None
            legs.setdefault(leg.parent_id, []).append(_order_read(leg, ticker, []))
    items = [_order_read(order, ticker, legs.get(order.id, [])) for order, ticker in rows]
    return items, total or 0


def _order_read(order: Order, ticker: str, legs: list[OrderRead]) -> OrderRead:
    fields = {name: getattr(order, name) for name in OrderRead.model_fields if hasattr(order, name)}
    return OrderRead.model_validate(fields | {"ticker": ticker, "legs": legs})


async def list_events(
    session: AsyncSession, portfolio_id: uuid.UUID, order_id: int, limit: int, offset: int
) -> tuple[list[OrderEventRead], int]:
    await _order(session, portfolio_id, order_id)
    mine = OrderEvent.order_id == order_id
    total = await session.scalar(select(func.count()).select_from(OrderEvent).where(mine))
    rows = await session.scalars(
        select(OrderEvent).where(mine).order_by(OrderEvent.id).limit(limit).offset(offset)
    )
    return [OrderEventRead.model_validate(e, from_attributes=True) for e in rows], total or 0
