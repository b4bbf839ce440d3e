import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class CashType(enum.StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    DIVIDEND = "dividend"
    INTEREST = "interest"
    FEE = "fee"

    @property
    def sign(self) -> int:
        return -1 if self in (CashType.WITHDRAWAL, CashType.FEE) else 1

    @property
    def external(self) -> bool:
        """Deposits and withdrawals move money across the portfolio's boundary."""
        return self in (CashType.DEPOSIT, CashType.WITHDRAWAL)


class CashTransaction(Base):
    __tablename__ = "cash_transactions"
    __table_args__ = (Index("ix_cash_transactions_portfolio_date", "portfolio_id", "date", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    type: Mapped[CashType] = mapped_column(
        Enum(CashType, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    amount: Mapped[Decimal]
    date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
