"""The stored daily NAV series of each portfolio."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class PortfolioNav(Base):
    """A portfolio's close on one business day: NAV, cash and the day's external flows.

    Valid up to the portfolio's `nav_valid_through`; later rows are recomputed before use.
    """

    __tablename__ = "portfolio_navs"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    # NULL when a holding had no price on or before the date: the NAV is unknown, not partial.
    nav: Mapped[Decimal | None]
    cash: Mapped[Decimal]
    inflow: Mapped[Decimal]
    outflow: Mapped[Decimal]
    # Holdings without a close that day: [{"ticker", "carried", "stale"?}], carried = valued
    # at an earlier close, stale = the vendor could not be asked about the day.
    missing: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
