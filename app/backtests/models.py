"""Backtests and sweeps: what was asked, how far the work is, and the stored result."""

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, bigint_id, text_enum, utcnow


class BacktestKind(enum.StrEnum):
    BACKTEST = "backtest"
    SWEEP = "sweep"


class BacktestStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({BacktestStatus.SUCCEEDED, BacktestStatus.FAILED, BacktestStatus.CANCELLED})


class Backtest(Base):
    __tablename__ = "backtests"
    __table_args__ = (Index("ix_backtests_created_by", "created_by", "id"),)

    id: Mapped[int] = bigint_id()
    kind: Mapped[BacktestKind] = mapped_column(text_enum(BacktestKind))
    status: Mapped[BacktestStatus] = mapped_column(
        text_enum(BacktestStatus), default=BacktestStatus.QUEUED
    )
    done: Mapped[int] = mapped_column(default=0)  # combinations run so far
    total: Mapped[int] = mapped_column(default=1)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[str | None] = mapped_column(Text)  # the finished result, as JSON text
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
