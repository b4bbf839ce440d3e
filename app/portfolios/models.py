import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UUIDPrimaryKey, utcnow


class Portfolio(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "portfolios"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    pm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    allow_short: Mapped[bool] = mapped_column(default=False)
    allow_negative_cash: Mapped[bool] = mapped_column(default=False)
    benchmark: Mapped[str] = mapped_column(String(16), default="SPY")
    # How a sale realises P&L: "average" cost or "fifo" lots (the ledger's CostMethod).
    cost_method: Mapped[str] = mapped_column(
        String(16), default="average", server_default="average"
    )
    auto_book_dividends: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The investment policy its orders are checked against (app/orders/policy.py).
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # The fold of cash transactions and trades, kept in the same transaction as each of them.
    cash_balance: Mapped[Decimal] = mapped_column(default=Decimal(0))
    # No trade or cash transaction is dated after this: from it on, the balance is final.
    books_through: Mapped[date | None] = mapped_column(Date)
    archived_at: Mapped[datetime | None]
    # The stored NAV series (analytics) holds up to this date; every change of trades or
    # cash bumps the version, so a recomputation that raced one is not saved as valid.
    nav_valid_through: Mapped[date | None] = mapped_column(Date)
    nav_version: Mapped[int] = mapped_column(default=0, server_default="0")
    nav_priced_at: Mapped[datetime | None]

    def nav_invalidation(self, day: date) -> dict[str, Any]:
        """The values that mark the NAV series stale from `day` on (write them with the row
        locked)."""
        valid = self.nav_valid_through
        if valid is not None and valid >= day:
            valid = day - timedelta(days=1)
        return {"nav_version": self.nav_version + 1, "nav_valid_through": valid}


class PortfolioMember(Base):
    __tablename__ = "portfolio_members"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
