"""Backtests and sweeps: what was asked, how far the work is, and the stored result."""

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


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


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Backtest(Base):
    __tablename__ = "backtests"
    __table_args__ = (Index("ix_backtests_created_by", "created_by", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[BacktestKind] = mapped_column(_enum(BacktestKind))
    status: Mapped[BacktestStatus] = mapped_column(
        _enum(BacktestStatus), default=BacktestStatus.QUEUED
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
