"""Where accepted orders go. A broker takes an order and answers its own id for it, and is
asked to cancel one; its executions come back as `Execution`s that the orders service books.
The paper broker fills them itself against stored daily bars (app/orders/paper.py)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from app.orders.models import Order

PAPER = "paper"


@dataclass(frozen=True)
class Execution:
    """One fill as a broker reports it; its id is never booked twice."""

    execution_id: str
    day: date
    quantity: Decimal
    price: Decimal
    commission: Decimal = Decimal(0)


class Broker(Protocol):
    name: str

    async def submit(self, order: Order) -> str:
        """Send the order; the broker's id for it."""
        ...

    async def cancel(self, order: Order) -> bool:
        """Ask to cancel it: True when it is canceled at once, False when the broker will
        confirm (or fill it) later."""
        ...


class PaperBroker:
    """Takes every order and cancels at once: its fills come from the paper run."""

    name = PAPER

    async def submit(self, order: Order) -> str:
        return f"{PAPER}-{order.id}"

    async def cancel(self, order: Order) -> bool:
        return True


BROKERS: dict[str, Broker] = {PAPER: PaperBroker()}
