import uuid
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import Page
from app.core.schemas import DecimalString, PlainDecimal
from app.ledger.models import CashType
from app.portfolios.schemas import Ticker
from app.trades.schemas import MAX_AMOUNT, TradeDate


class CashCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "deposit",
                    "amount": "10000.00",
                    "date": "2026-01-02",
                    "note": "seed capital",
                },
                {"type": "dividend", "amount": "12.40", "date": "2026-02-14", "ticker": "AAPL"},
            ]
        },
    )

    type: CashType
    amount: PlainDecimal = Field(gt=0, lt=MAX_AMOUNT, decimal_places=8, allow_inf_nan=False)
    date: TradeDate
    note: str = Field(default="", max_length=2000)
    ticker: Ticker | None = Field(default=None, description="Required for a dividend")

    @model_validator(mode="after")
    def _ticker_only_for_dividends(self) -> Self:
        if (self.type is CashType.DIVIDEND) != (self.ticker is not None):
            raise ValueError("a dividend needs a ticker, and only a dividend has one")
        return self


class CashRead(BaseModel):
    id: int
    type: CashType
    amount: DecimalString
    date: date
    note: str
    ticker: str | None
    created_by: uuid.UUID
    created_at: datetime


class CashPage(Page[CashRead]):
    balance: DecimalString
