"""The fold: a position and its open lots are what its booked fills say, in (date, id) order.

Every opening fill opens a lot; a closing fill closes lots oldest first. What a close
realises depends on the cost method: `average` takes the position's average cost
(the lots then only date the shares), `fifo` the closed lots' own cost. A buy adds
qty*price + fees to the cost basis; a sell realises proceeds - fees - the cost it removes.
Shorts mirror it: a fill that crosses zero closes the old side and opens the new one with
the rest, fees split pro rata.

An instrument's splits fold in with its fills, a split before the fills of its ex-date:
the quantity of the position and of each open lot x to/from, costs unchanged.
"""

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

from app.ledger.models import CostMethod
from app.ledger.rules import ZERO, Fill, InsufficientQuantity

LONG_TERM_DAYS = 365
# A split's quantities keep at most the places a trade's quantity may have.
QUANTITY_PLACES = 8
QUANTITY_STEP = Decimal(1).scaleb(-QUANTITY_PLACES)
_DIVIDE = Context(prec=60)


@dataclass(frozen=True, slots=True)
class Split:
    """`to` new shares for every `from_` old ones, from the ex-date on."""

    ex_date: date
    to: int
    from_: int

    def apply(self, quantity: Decimal) -> Decimal:
        moved = _DIVIDE.divide(quantity * self.to, Decimal(self.from_))
        exponent = moved.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -QUANTITY_PLACES:
            return moved.quantize(QUANTITY_STEP, ROUND_HALF_EVEN)
        return moved


@dataclass(slots=True)
class OpenLot:
    trade_id: int
    open_date: date
    quantity: Decimal  # signed: > 0 long, < 0 short
    cost: Decimal  # signed like the basis: a short's is its proceeds less fees, negated


@dataclass(frozen=True, slots=True)
class ClosedLot:
    open_trade_id: int
    close_trade_id: int
    open_date: date
    close_date: date
    quantity: Decimal  # signed like the lot it closed
    cost: Decimal  # what was paid: to open a long, to cover a short
    proceeds: Decimal  # what was received: to close a long, to open a short
    gain: Decimal

    @property
    def term(self) -> str:
        return "long" if (self.close_date - self.open_date).days > LONG_TERM_DAYS else "short"


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


@dataclass(slots=True)
class Book:
    """A position while it is folded: its totals, its open lots, and what was closed."""

    method: CostMethod
    keep_closed: bool = False  # record each closed piece (a report), or only the totals
    quantity: Decimal = ZERO
    basis: Decimal = ZERO
    realized: Decimal = ZERO
    opened: date | None = None
    last: date | None = None
    lots: deque[OpenLot] = field(default_factory=deque)
    closed: list[ClosedLot] = field(default_factory=list)
    split_moves: list[tuple[date, Decimal]] = field(default_factory=list)  # quantity each added

    @classmethod
    def of(cls, method: CostMethod, holding: Holding, lots: Iterable[OpenLot] = ()) -> "Book":
        h = holding
        return cls(
            method, False, h.quantity, h.cost_basis, h.realized_pnl, h.opened_on, h.last_trade_date,
            deque(replace(lot) for lot in lots),  # copies: the fold changes them in place
        )  # fmt: skip

    def holding(self) -> Holding:
        return Holding(self.quantity, self.basis, self.realized, self.opened, self.last)

    def add(self, fill: Fill) -> None:
        qty, fees = fill.quantity, fill.fees
        opening = fill.side == "buy"
        if self.quantity and (self.quantity > 0) != opening:
            closed = min(qty, abs(self.quantity))
            fee_closed = fees if closed == qty else fees * closed / qty
            self._close(fill, closed, fee_closed)
            if closed == qty:
                self.last = fill.trade_date
                return
            qty, fees = qty - closed, fees - fee_closed  # the rest opens the other side
        if not self.quantity:
            self.opened = fill.trade_date
        signed = qty if opening else -qty
        cost = signed * fill.price + fees
        self.quantity += signed
        self.basis += cost
        self.last = fill.trade_date
        self.lots.append(OpenLot(fill.trade_id, fill.trade_date, signed, cost))

    def split(self, split: Split) -> None:
        """Each open lot's quantity x to/from; the position holds what its lots hold."""
        if not self.quantity:
            return
        for lot in self.lots:
            lot.quantity = split.apply(lot.quantity)
        before = self.quantity
        self.quantity = sum((lot.quantity for lot in self.lots), ZERO) or split.apply(before)
        self.split_moves.append((split.ex_date, self.quantity - before))

    def _close(self, fill: Fill, closed: Decimal, fees: Decimal) -> None:
        """Close `closed` shares of the position, its lots oldest first, for `fees` in all."""
        direction = 1 if self.quantity > 0 else -1
        average = self.basis / self.quantity
        own_cost = self._close_lots(fill, closed, fees, direction)
        if self.method is CostMethod.FIFO:
            self.realized += direction * fill.price * closed - fees - own_cost
            self.basis -= own_cost
        else:
            self.realized += (fill.price - average) * closed * direction - fees
            self.basis -= average * closed * direction
        self.quantity -= closed * direction
        if not self.quantity:
            self.basis, self.opened = ZERO, None

    def _close_lots(self, fill: Fill, closed: Decimal, fees: Decimal, direction: int) -> Decimal:
        """Take `closed` shares off the lots, oldest first (recording each closed piece when
        the book keeps them); returns the lots' own cost of what was taken."""
        left, fees_left, taken = closed, fees, ZERO
        while left:
            lot = self.lots[0]
            size = abs(lot.quantity)
            part = min(left, size)
            own = lot.cost if part == size else lot.cost * part / size
            if self.keep_closed:
                fee = fees_left if part == left else fees * part / closed
                fees_left -= fee
                cost = (
                    own if self.method is CostMethod.FIFO else self._average_cost(part, direction)
                )
                self._record(lot, fill, part * direction, cost, direction * fill.price * part - fee)
            if part == size:
                self.lots.popleft()
            else:
                lot.quantity -= part * direction
                lot.cost -= own
            taken += own
            left -= part
        return taken

    def _average_cost(self, part: Decimal, direction: int) -> Decimal:
        return self.basis * part * direction / self.quantity  # multiplied first: fewer roundings

    def _record(
        self, lot: OpenLot, fill: Fill, quantity: Decimal, cost: Decimal, net: Decimal
    ) -> None:
        # A long paid `cost` and received `net`; a short received -cost and paid -net.
        paid, received = (cost, net) if quantity > 0 else (-net, -cost)
        self.closed.append(
            ClosedLot(
                lot.trade_id, fill.trade_id, lot.open_date, fill.trade_date, quantity,
                paid, received, received - paid,
            )
        )  # fmt: skip


def fold(
    fills: Iterable[Fill],
    *,
    allow_short: bool,
    method: CostMethod = CostMethod.AVERAGE,
    start: Book | None = None,
    keep_closed: bool = False,
    splits: Sequence[Split] = (),
) -> Book:
    """Fold fills in order, each split (oldest first) before the fills of its ex-date;
    without shorts, no step may leave a negative quantity."""
    book = start or Book(method, keep_closed)
    pending = iter(splits)
    split = next(pending, None)
    for fill in fills:
        while split is not None and split.ex_date <= fill.trade_date:
            book.split(split)
            split = next(pending, None)
        book.add(fill)
        if book.quantity < 0 and not allow_short:
            raise InsufficientQuantity(
                details={"trade_date": fill.trade_date.isoformat(), "short_by": str(-book.quantity)}
            )
    while split is not None:
        book.split(split)
        split = next(pending, None)
    return book
