"""The average-cost fold: a position is what its booked trades say, in (trade_date, id) order.

A buy adds qty*price + fees to the cost basis; a sell realises (price - avg_cost)*qty - fees
and removes avg_cost*qty from the basis. Shorts mirror it: a trade that crosses zero closes
the old side and opens the new one with the rest, fees split pro rata.
"""

from collections.abc import Iterable
from dataclasses import dataclass
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


class _Running:
    """The fold's state while it runs: mutated in place, so long histories fold fast."""

    __slots__ = ("basis", "last", "opened", "quantity", "realized")

    def __init__(self, h: Holding) -> None:
        self.quantity, self.basis, self.realized = h.quantity, h.cost_basis, h.realized_pnl
        self.opened, self.last = h.opened_on, h.last_trade_date

    def add(self, side: str, qty: Decimal, price: Decimal, fees: Decimal, day: date) -> None:
        s = qty if side == "buy" else -qty
        if self.quantity and (self.quantity > 0) != (s > 0):
            direction = 1 if self.quantity > 0 else -1
            closed = min(qty, abs(self.quantity))
            fee_closed = fees if closed == qty else fees * closed / qty
            avg = self.basis / self.quantity
            self.realized += (price - avg) * closed * direction - fee_closed
            self.quantity += closed if s > 0 else -closed
            self.basis = self.basis - avg * closed * direction if self.quantity else ZERO
            self.last = day
            if not self.quantity:
                self.opened = None
            if closed == qty:
                return
            # The rest opens the other side, with the rest of the fees.
            qty, fees, s = qty - closed, fees - fee_closed, s + (closed if s < 0 else -closed)
        if not self.quantity:
            self.opened = day
        self.quantity += s
        self.basis += s * price + fees
        self.last = day

    def holding(self) -> Holding:
        return Holding(self.quantity, self.basis, self.realized, self.opened, self.last)


def apply(h: Holding, fill: Fill) -> Holding:
    running = _Running(h)
    running.add(fill.side, fill.quantity, fill.price, fill.fees, fill.trade_date)
    return running.holding()


def fold(fills: Iterable[Fill], *, allow_short: bool, start: Holding | None = None) -> Holding:
    """Fold fills in order; without shorts, no step may leave a negative quantity."""
    running = _Running(start or Holding())
    for fill in fills:
        running.add(fill.side, fill.quantity, fill.price, fill.fees, fill.trade_date)
        if running.quantity < 0 and not allow_short:
            raise InsufficientQuantity(
                details={
                    "trade_date": fill.trade_date.isoformat(),
                    "short_by": str(-running.quantity),
                }
            )
    return running.holding()
