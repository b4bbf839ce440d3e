"""An order's status is the fold of its events (PRODUCT.md, Orders): each status allows some
events, and each allowed event leads to one status (a fill, to the status its quantity
makes)."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from app.core.errors import Conflict
from app.orders.models import OrderEventType as E
from app.orders.models import OrderStatus as S

FINAL = frozenset({S.FILLED, S.CANCELED, S.EXPIRED, S.REJECTED, S.DENIED})

_WORKING_EVENTS = {E.FILL: S.FILLED, E.CANCEL_REQUESTED: S.PENDING_CANCEL, E.EXPIRED: S.EXPIRED}
TRANSITIONS: dict[S | None, dict[E, S]] = {
    None: {E.PLACED: S.NEW},
    # a bracket's legs wait in `new` for their parent's fill, and are canceled with it
    S.NEW: {
        E.ACCEPTED: S.ACCEPTED,
        E.HELD: S.PENDING_APPROVAL,
        E.DENIED: S.DENIED,
        E.CANCELED: S.CANCELED,
    },
    S.PENDING_APPROVAL: {E.OVERRIDDEN: S.ACCEPTED, E.DENIED: S.DENIED, E.CANCELED: S.CANCELED},
    S.ACCEPTED: _WORKING_EVENTS | {E.REJECTED: S.REJECTED},
    S.PARTIALLY_FILLED: _WORKING_EVENTS,
    S.PENDING_CANCEL: {E.FILL: S.FILLED, E.CANCELED: S.CANCELED},
}

TRANSITIONS_TO_REJECT = frozenset(
    s for s, events in TRANSITIONS.items() if s and E.REJECTED in events
)


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = "The order's status does not allow this."


def allowed(status: S | None) -> list[str]:
    return [event.value for event in TRANSITIONS.get(status, {})]


def step(
    status: S | None, event: E, filled: Decimal = Decimal(0), quantity: Decimal = Decimal(0)
) -> S:
    """The status after `event`; `filled` is the quantity filled after a fill event."""
    following = TRANSITIONS.get(status, {}).get(event)
    if following is None:
        raise IllegalTransition(
            details={
                "status": status.value if status else None,
                "event": event.value,
                "allowed": allowed(status),
            }
        )
    if event is E.FILL and filled < quantity:
        return S.PENDING_CANCEL if status is S.PENDING_CANCEL else S.PARTIALLY_FILLED
    return following


def fold(events: Iterable[tuple[E, dict[str, Any]]], quantity: Decimal) -> S | None:
    """The status that an order's events, oldest first, lead to."""
    status: S | None = None
    filled = Decimal(0)
    for event, data in events:
        if event is E.FILL:
            filled += Decimal(data["quantity"])
        status = step(status, event, filled, quantity)
    return status
