"""Strategies that trade on their own: each new BUY or SELL signal of an active strategy with
a portfolio and `auto_trade` becomes a market order, sized by the strategy and bracketed by
its stop-loss and take-profit, placed through the same check as any order.

As in a backtest, a BUY buys only when the portfolio holds none of the ticker and a SELL
sells all it holds; any other signal is marked ignored, with an event that says why.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.posting import instrument_for
from app.market.service import MarketData
from app.orders import service
from app.orders.models import OrderClass
from app.orders.policy import Book
from app.orders.schemas import OrderRead, OrderRequest, StopLoss, TakeProfit
from app.portfolios.models import Portfolio
from app.strategies import events
from app.strategies.models import EventType, Severity, Signal, SignalStatus, SignalType, Strategy

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Placed:
    orders: int = 0
    ignored: int = 0


async def place_from_signals(
    session: AsyncSession, market: MarketData, day: date, commission_rate: Decimal
) -> Placed:
    """Orders for the new BUY and SELL signals of `day` of the strategies that trade."""
    rows = await session.execute(
        select(Signal, Strategy)
        .join(Strategy, Strategy.id == Signal.strategy_id)
        .where(
            Signal.date == day,
            Signal.status == SignalStatus.NEW,
            Signal.type.in_([SignalType.BUY, SignalType.SELL]),
            Strategy.active,
            Strategy.auto_trade,
            Strategy.portfolio_id.is_not(None),
        )
        .order_by(Signal.id)
    )
    orders = ignored = 0
    for signal, strategy in rows.all():
        portfolio = await session.get_one(Portfolio, strategy.portfolio_id)
        instrument = await instrument_for(session, market, signal.ticker)
        book = await service.book_at_close(session, market, portfolio, instrument)
        request, why = order_for(strategy, signal, book, commission_rate)
        if request is None or portfolio.archived_at is not None:
            signal.status = SignalStatus.IGNORED
            await _record(session, strategy, signal, why or "the portfolio is archived", {})
            ignored += 1
            continue
        order, _ = await service.place(
            session,
            market,
            portfolio,
            instrument,
            request,
            strategy.created_by,
            strategy_id=strategy.id,
            signal_id=signal.id,
            client_id=f"signal:{signal.id}",
        )
        signal.status = SignalStatus.ACTED
        await _record(session, strategy, signal, _placed(order), {"order_id": order.id})
        orders += 1
    return Placed(orders, ignored)


def order_for(
    strategy: Strategy, signal: Signal, book: Book, rate: Decimal
) -> tuple[OrderRequest | None, str | None]:
    """The order a signal makes by the strategy's sizing, or why it makes none."""
    held = book.quantities.get(signal.ticker, Decimal(0))
    base: dict[str, Any] = {"ticker": signal.ticker}
    if signal.type is SignalType.SELL:
        if held <= 0:
            return None, "nothing held to sell"
        return OrderRequest(**base, side="sell", quantity=held), None
    if held > 0:
        return None, "already holding it"
    quantity = _size(strategy.sizing, book, signal.close, rate)
    if quantity <= 0:
        return None, "the sizing buys no share"
    brackets = _brackets(strategy, signal.close)
    return OrderRequest(**base, side="buy", quantity=quantity, **brackets), None


def _size(sizing: dict[str, Any], book: Book, close: Decimal, rate: Decimal) -> Decimal:
    kind, value = sizing["type"], Decimal(sizing.get("value") or 0)
    if kind == "fixed_quantity":
        return value
    if kind == "percent_nav":
        priced = (q * book.closes.get(t, Decimal(0)) for t, q in book.quantities.items())
        nav = book.cash + sum(priced, Decimal(0))
        return (nav * value / 100 / close).to_integral_value(ROUND_FLOOR)
    return (book.cash / (close * (1 + rate))).to_integral_value(ROUND_FLOOR)


def _brackets(strategy: Strategy, close: Decimal) -> dict[str, Any]:
    legs: dict[str, Any] = {}
    if strategy.take_profit_pct is not None:
        price = (close * (1 + strategy.take_profit_pct / 100)).quantize(CENT, ROUND_HALF_UP)
        legs["take_profit"] = TakeProfit(limit_price=price)
    if strategy.stop_loss_pct is not None:
        price = (close * (1 - strategy.stop_loss_pct / 100)).quantize(CENT, ROUND_HALF_UP)
        legs["stop_loss"] = StopLoss(stop_price=price)
    return legs | {"order_class": OrderClass.BRACKET} if legs else {}


def _placed(order: OrderRead) -> str:
    return (
        f"{order.side.value} {order.quantity} {order.ticker}: order {order.id} {order.status.value}"
    )


async def _record(
    session: AsyncSession, strategy: Strategy, signal: Signal, message: str, extra: dict[str, Any]
) -> None:
    details = {"signal_id": signal.id, "ticker": signal.ticker, "date": signal.date.isoformat()}
    severity = Severity.INFO if "order_id" in extra else Severity.WARNING
    text = f"{signal.type.value} {signal.ticker} on {signal.date}: {message}"
    await events.record(session, strategy.id, EventType.ORDER, text, details | extra, severity)
