"""The average-cost fold: a position is what its booked trades say, in (trade_date, id) order.

A buy adds qty*price + fees to the cost basis; a sell realises (price - avg_cost)*qty - fees
and removes avg_cost*qty from the basis. Shorts mirror it: a trade that crosses zero closes
the old side and opens the new one with the rest, fees split pro rata.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.core.errors import Conflict

ZERO = Decimal(0)


class InsufficientQuantity(Conflict):
    code = "insufficient_quantity"
    message = "The portfolio does not hold enough of this instrument, and shorts are not allowed."


@dataclass(frozen=True, slots=True)
class Fill:
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    trade_date: date

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def cash_effect(self) -> Decimal:
        """Cash moved: a buy pays qty*price + fees, a sell gets qty*price - fees."""
        return (
            -(self.quantity * self.price) - self.fees
            if self.side == "buy"
            else (self.quantity * self.price - self.fees)
        )


@dataclass(frozen=True, slots=True)
class Holding:
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    opened_on: date | None = None
    last_trade_date: date | None = None

    @property
    def average_cost(self) -> Decimal:
        return self.cost_basis / self.quantity if self.quantity else ZERO


def apply(h: Holding, fill: Fill) -> Holding:
    s = fill.signed_quantity
    if h.quantity == 0 or (h.quantity > 0) == (s > 0):
        opened = h.opened_on if h.quantity else fill.trade_date
        return replace(
            h,
            quantity=h.quantity + s,
            cost_basis=h.cost_basis + s * fill.price + fill.fees,
            opened_on=opened,
            last_trade_date=fill.trade_date,
        )
    direction = 1 if h.quantity > 0 else -1
    closed = min(fill.quantity, abs(h.quantity))
    fee_closed = fill.fees if closed == fill.quantity else fill.fees * closed / fill.quantity
    avg = h.average_cost
    realized = h.realized_pnl + (fill.price - avg) * closed * direction - fee_closed
    quantity = h.quantity + (closed if s > 0 else -closed)
    basis = h.cost_basis - avg * closed * direction if quantity else ZERO
    rest = fill.quantity - closed
    if rest:
        opening = Fill(fill.side, rest, fill.price, fill.fees - fee_closed, fill.trade_date)
        return apply(Holding(ZERO, ZERO, realized, None, None), opening)
    return Holding(quantity, basis, realized, h.opened_on if quantity else None, fill.trade_date)


def fold(fills: Iterable[Fill], *, allow_short: bool, start: Holding | None = None) -> Holding:
    """Fold fills in order; without shorts, no step may leave a negative quantity."""
    h = start or Holding()
    for fill in fills:
        h = apply(h, fill)
        if h.quantity < 0 and not allow_short:
            raise InsufficientQuantity(
                details={"trade_date": fill.trade_date.isoformat(), "short_by": str(-h.quantity)}
            )
    return h
