"""The books' rules, each defined once: in Python for a row, in SQL for the database's sums.

Which trades count (booked, not cancelled), a trade's signed quantity and cash effect, and a
cash transaction's effect. Tests hold the two forms of each equal.
"""

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case

from app.core.errors import Conflict
from app.ledger.models import CashTransaction, CashType, Side, Trade, TradeStatus

ZERO = Decimal(0)


class InsufficientCash(Conflict):
    code = "insufficient_cash"
    message = "The portfolio does not have the cash, and negative cash is not allowed."


class InsufficientQuantity(Conflict):
    code = "insufficient_quantity"
    message = "The portfolio does not hold enough of this instrument, and shorts are not allowed."


class Fill(NamedTuple):
    """A booked trade as the fold sees it; `trade_id` orders fills of the same date.
    A tuple: long histories are read into thousands of them."""

    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    trade_date: date
    trade_id: int = 0

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def cash_effect(self) -> Decimal:
        return trade_cash_effect(self.side, self.quantity, self.price, self.fees)


def counts(status: TradeStatus) -> bool:
    """Which trades count: booked ones; a cancelled trade is kept but folds into nothing."""
    return status is TradeStatus.BOOKED


def trade_counts(trades: Any = Trade) -> ColumnElement[bool]:
    counted: ColumnElement[bool] = trades.status == TradeStatus.BOOKED
    return counted


def trade_cash_effect(side: str, quantity: Decimal, price: Decimal, fees: Decimal) -> Decimal:
    """Cash moved: a buy pays qty*price + fees, a sell gets qty*price - fees."""
    gross = quantity * price
    return -gross - fees if side == Side.BUY else gross - fees


def trade_cash_effect_sql(trades: Any = Trade) -> ColumnElement[Decimal]:
    gross = trades.quantity * trades.price
    return case((trades.side == Side.BUY, -gross - trades.fees), else_=gross - trades.fees)


def trade_signed_quantity_sql(trades: Any = Trade) -> ColumnElement[Decimal]:
    return case((trades.side == Side.BUY, trades.quantity), else_=-trades.quantity)


def cash_effect(kind: CashType, amount: Decimal) -> Decimal:
    return kind.sign * amount


def cash_effect_sql(rows: Any = CashTransaction) -> ColumnElement[Decimal]:
    outgoing = (CashType.WITHDRAWAL, CashType.FEE)
    return case((rows.type.in_(outgoing), -rows.amount), else_=rows.amount)
