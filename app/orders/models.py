"""Orders, every change of them as an event, and the fills that booked trades."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.backtests.fills import OrderKind
from app.core.database import Base, bigint_id, text_enum, utcnow
from app.ledger.models import Side


class TimeInForce(enum.StrEnum):
    DAY = "day"
    GTC = "gtc"


class OrderClass(enum.StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"


class Leg(enum.StrEnum):
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"


class OrderStatus(enum.StrEnum):
    NEW = "new"
    PENDING_APPROVAL = "pending_approval"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DENIED = "denied"


class OrderEventType(enum.StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"  # the check passed (or a leg armed by its parent's fill)
    HELD = "held"  # a soft breach awaits an override
    DENIED = "denied"  # a hard breach
    OVERRIDDEN = "overridden"
    FILL = "fill"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("uq_orders_client_order_id", "portfolio_id", "client_order_id", unique=True),
        Index("ix_orders_portfolio_status", "portfolio_id", "status", "id"),
    )

    id: Mapped[int] = bigint_id()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    client_order_id: Mapped[str] = mapped_column(String(80))  # a leg adds its name
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    leg: Mapped[Leg | None] = mapped_column(text_enum(Leg))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    side: Mapped[Side] = mapped_column(text_enum(Side))
    type: Mapped[OrderKind] = mapped_column(text_enum(OrderKind))
    time_in_force: Mapped[TimeInForce] = mapped_column(text_enum(TimeInForce))
    order_class: Mapped[OrderClass] = mapped_column(text_enum(OrderClass))
    quantity: Mapped[Decimal]
    limit_price: Mapped[Decimal | None]
    stop_price: Mapped[Decimal | None]
    # The fold of the order's events, kept in the same transaction as each of them.
    status: Mapped[OrderStatus] = mapped_column(text_enum(OrderStatus))
    filled_quantity: Mapped[Decimal] = mapped_column(default=Decimal(0))
    filled_avg_price: Mapped[Decimal | None]
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    placed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    strategy_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategies.id", ondelete="SET NULL"), index=True
    )
    signal_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("signals.id", ondelete="SET NULL")
    )
    # The New York date it was placed on: it works from the next bar.
    placed_on: Mapped[date] = mapped_column(Date)
    armed_on: Mapped[date | None] = mapped_column(Date)  # a stop-limit's stop touched
    broker: Mapped[str] = mapped_column(String(32))
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    filled_at: Mapped[datetime | None]
    canceled_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]


class OrderEvent(Base):
    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: Mapped[int] = bigint_id()
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"))
    type: Mapped[OrderEventType] = mapped_column(text_enum(OrderEventType))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderFill(Base):
    """One execution of an order, booked as one trade; its id is never booked twice."""

    __tablename__ = "order_fills"

    id: Mapped[int] = bigint_id()
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    execution_id: Mapped[str] = mapped_column(String(64), unique=True)
    date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal]
    price: Mapped[Decimal]
    commission: Mapped[Decimal]
    trade_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trades.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
