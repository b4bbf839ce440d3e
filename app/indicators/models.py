"""The latest value of each configured indicator per instrument, stored after each close so
that a screen is one query."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class IndicatorValue(Base):
    __tablename__ = "indicator_values"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(48), primary_key=True)  # a column: rsi_14, close
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None]  # exact, as every stored number (null during warm-up)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
