"""Instruments, their stored daily bars, the date ranges already asked of a vendor, and
their corporate actions."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, utcnow
from app.market.provider import ActionType

UNCLASSIFIED = "unclassified"  # the sector of an instrument without one


class Instrument(Timestamps, Base):
    """A ticker the provider confirmed, kept so it is not asked again."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    exchange: Mapped[str | None] = mapped_column(String(32))
    asset_type: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    description: Mapped[str | None] = mapped_column(Text)
    first_price_date: Mapped[date | None] = mapped_column(Date)
    last_price_date: Mapped[date | None] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(16))
    # The vendor's industry where it gives one, or what an admin or PM set (audited).
    sector: Mapped[str | None] = mapped_column(String(64))
    # Every corporate action with an ex-date up to this date is stored.
    actions_through: Mapped[date | None] = mapped_column(Date)


class PriceBar(Base):
    """One instrument's daily bar; `close` is as traded, `adj_close` split/dividend adjusted."""

    __tablename__ = "price_bars"
    # Which stored bars changed since a NAV series was priced: a range scan on this index.
    __table_args__ = (Index("ix_price_bars_fetched_at", "fetched_at"),)

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    open: Mapped[Decimal]
    high: Mapped[Decimal]
    low: Mapped[Decimal]
    close: Mapped[Decimal]
    adj_close: Mapped[Decimal]
    volume: Mapped[int] = mapped_column(BigInteger)
    dividend: Mapped[Decimal] = mapped_column(default=Decimal(0))
    split_factor: Mapped[Decimal] = mapped_column(default=Decimal(1))
    provider: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriceCoverage(Base):
    """A date range already fetched from a provider, bars or not (weekends, holidays)."""

    __tablename__ = "price_coverage"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    start_date: Mapped[date] = mapped_column(Date, primary_key=True)
    end_date: Mapped[date] = mapped_column(Date)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class CorporateAction(Base):
    """A split or cash dividend of an instrument; one per (instrument, type, ex-date)."""

    __tablename__ = "corporate_actions"
    __table_args__ = (
        Index("uq_corporate_actions", "instrument_id", "type", "ex_date", unique=True),
        Index("ix_corporate_actions_fetched_at", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    type: Mapped[ActionType] = mapped_column(
        Enum(
            ActionType, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        )
    )
    ex_date: Mapped[date] = mapped_column(Date)
    pay_date: Mapped[date | None] = mapped_column(Date)
    split_to: Mapped[int] = mapped_column(Integer, default=1)
    split_from: Mapped[int] = mapped_column(Integer, default=1)
    cash_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
