import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.schemas import DecimalString, IsoDate, PlainDecimal
from app.ledger.models import Side, TradeStatus
from app.portfolios.schemas import Ticker

EARLIEST_TRADE_DATE = date(1970, 1, 1)
MAX_AMOUNT = Decimal("1e15")


def latest_market_date() -> date:
    """Today somewhere on earth (UTC+14): a date after it is in the future for everyone."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _not_in_future(value: date) -> date:
    if value > latest_market_date():
        raise ValueError("the trade date is in the future")
    if value < EARLIEST_TRADE_DATE:
        raise ValueError("the trade date is before 1970")
    return value


TradeDate = Annotated[IsoDate, AfterValidator(_not_in_future)]
Quantity = Annotated[
    PlainDecimal, Field(gt=0, lt=MAX_AMOUNT, decimal_places=8, allow_inf_nan=False)
]
Price = Annotated[PlainDecimal, Field(gt=0, lt=MAX_AMOUNT, decimal_places=8, allow_inf_nan=False)]
Fees = Annotated[PlainDecimal, Field(ge=0, lt=MAX_AMOUNT, decimal_places=8, allow_inf_nan=False)]


class TradeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ticker": "AAPL",
                    "side": "buy",
                    "quantity": "10",
                    "price": "189.50",
                    "fees": "1.00",
                    "trade_date": "2026-01-05",
                    "notes": "initial position",
                }
            ]
        },
    )

    ticker: Ticker
    side: Side
    quantity: Quantity
    price: Price
    fees: Fees = Decimal(0)
    trade_date: TradeDate
    notes: str = Field(default="", max_length=2000)
    external_id: str | None = Field(default=None, max_length=64)


class TradeRead(BaseModel):
    id: int
    ticker: str
    side: Side
    quantity: DecimalString
    price: DecimalString
    fees: DecimalString
    trade_date: date
    notes: str
    external_id: str | None
    status: TradeStatus
    created_by: uuid.UUID
    created_at: datetime
    cancelled_by: uuid.UUID | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class TradeCancel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "booked twice"}]}
    )

    reason: str = Field(min_length=1, max_length=500)


class ImportRowError(BaseModel):
    row: int
    errors: list[str]


class ImportResult(BaseModel):
    booked: int
    first_trade_id: int | None
    last_trade_id: int | None


class ImportFile(BaseModel):
    """What an import's Idempotency-Key is bound to: the file's content."""

    sha256: str
