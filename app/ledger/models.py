"""The books' tables: trades and cash (what happened), positions and lots (their fold)."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, bigint_id, text_enum, utcnow


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class TradeStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class CostMethod(enum.StrEnum):
    AVERAGE = "average"
    FIFO = "fifo"


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


class Trade(Base):
    """A booked trade. Never edited in place: a correction is a cancel plus a new trade."""

    __tablename__ = "trades"
    __table_args__ = (
        Index("ix_trades_fold", "portfolio_id", "instrument_id", "trade_date", "id"),
        Index("ix_trades_portfolio_date", "portfolio_id", "trade_date", "id"),
        Index("uq_trades_external_id", "portfolio_id", "external_id", unique=True),
    )

    id: Mapped[int] = bigint_id()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    side: Mapped[Side] = mapped_column(text_enum(Side))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal]
    fees: Mapped[Decimal] = mapped_column(default=Decimal(0))
    trade_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TradeStatus] = mapped_column(text_enum(TradeStatus), default=TradeStatus.BOOKED)
    external_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class CashTransaction(Base):
    __tablename__ = "cash_transactions"
    __table_args__ = (Index("ix_cash_transactions_portfolio_date", "portfolio_id", "date", "id"),)

    id: Mapped[int] = bigint_id()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    type: Mapped[CashType] = mapped_column(text_enum(CashType))
    amount: Mapped[Decimal]
    date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Position(Base):
    """One instrument in one portfolio: always the fold of its booked trades."""

    __tablename__ = "positions"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    quantity: Mapped[Decimal]
    cost_basis: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]
    # The last booked trade folded in: a later trade extends the fold, an earlier one re-folds.
    last_trade_date: Mapped[date | None] = mapped_column(Date)
    opened_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Lot(Base):
    """What is left of one opening trade: long (quantity > 0) or short (< 0).

    `cost` is the rest of the trade's own cost with its fees (negative for a short: the
    proceeds less fees), shrunk pro rata as the lot is closed.
    """

    __tablename__ = "lots"
    __table_args__ = (
        Index("ix_lots_position", "portfolio_id", "instrument_id", "open_date", "trade_id"),
    )

    trade_id: Mapped[int] = mapped_column(
        ForeignKey("trades.id", ondelete="CASCADE"), primary_key=True
    )
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    open_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal]
    cost: Mapped[Decimal]


class DividendStatus(enum.StrEnum):
    PROPOSED = "proposed"
    BOOKED = "booked"
    DISMISSED = "dismissed"
    MATCHED = "matched"


class Dividend(Base):
    """A portfolio's entitlement to one cash dividend: proposed, then booked or dismissed."""

    __tablename__ = "dividends"
    __table_args__ = (Index("uq_dividends_action", "portfolio_id", "action_id", unique=True),)

    id: Mapped[int] = bigint_id()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(
        ForeignKey("corporate_actions.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    ex_date: Mapped[date] = mapped_column(Date)
    pay_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal]
    cash_amount: Mapped[Decimal]
    amount: Mapped[Decimal]
    status: Mapped[DividendStatus] = mapped_column(text_enum(DividendStatus))
    cash_transaction_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("cash_transactions.id")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
