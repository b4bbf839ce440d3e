"""Strategies, the signals they give on each ticker's bars, and what happened to them."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, bigint_id, text_enum, utcnow


class SignalType(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class SignalStatus(enum.StrEnum):
    NEW = "new"
    ACTED = "acted"
    IGNORED = "ignored"
    EXPIRED = "expired"


class EventType(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"
    EVALUATED = "evaluated"
    SIGNAL = "signal"
    ORDER = "order"
    ERROR = "error"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Strategy(Timestamps, Base):
    __tablename__ = "strategies"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    tickers: Mapped[list[str]] = mapped_column(JSON)
    portfolio_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("portfolios.id", ondelete="SET NULL"), index=True
    )
    sizing: Mapped[dict[str, Any]] = mapped_column(JSON)
    stop_loss_pct: Mapped[Decimal | None]
    take_profit_pct: Mapped[Decimal | None]
    active: Mapped[bool] = mapped_column(default=True)
    auto_trade: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class Signal(Base):
    """What a strategy said of one ticker's bar: unique per strategy, ticker and date."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("uq_signals_bar", "strategy_id", "ticker", "date", unique=True),
        Index("ix_signals_strategy_date", "strategy_id", "date"),
    )

    id: Mapped[int] = bigint_id()
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id"))
    ticker: Mapped[str] = mapped_column(String(16))
    date: Mapped[date] = mapped_column(Date)
    type: Mapped[SignalType] = mapped_column(text_enum(SignalType))
    close: Mapped[Decimal]
    reasons: Mapped[list[str]] = mapped_column(JSON)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[SignalStatus] = mapped_column(text_enum(SignalStatus), default=SignalStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StrategyEvent(Base):
    __tablename__ = "strategy_events"
    __table_args__ = (Index("ix_strategy_events_strategy", "strategy_id", "id"),)

    id: Mapped[int] = bigint_id()
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(text_enum(EventType))
    severity: Mapped[Severity] = mapped_column(text_enum(Severity), default=Severity.INFO)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the event's metadata
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
