import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import DecimalString, StrictBool

Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
]
Ticker = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=1,
        max_length=16,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$",
    ),
]
CostMethodName = Literal["average", "fifo"]
Currency = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$")]


class PortfolioCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Growth Fund", "description": "Long-only US growth"}]
        },
    )

    name: str = Field(min_length=1, max_length=120)
    slug: Slug | None = Field(default=None, description="Default: made from the name")
    description: str = Field(default="", max_length=2000)
    base_currency: Currency = "USD"
    team_id: uuid.UUID | None = Field(default=None, description="Default: your team")
    pm_id: uuid.UUID | None = Field(default=None, description="Admins only; default: you")
    allow_short: StrictBool = False
    allow_negative_cash: StrictBool = False
    benchmark: Ticker = "SPY"
    cost_method: CostMethodName = Field(
        default="average", description="How a sale realises P&L: average cost or FIFO lots"
    )
    auto_book_dividends: StrictBool = Field(
        default=False, description="Book proposed dividends on their pay date"
    )


class PortfolioUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"allow_short": True}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    base_currency: Currency | None = None
    allow_short: StrictBool | None = None
    allow_negative_cash: StrictBool | None = None
    benchmark: Ticker | None = None
    cost_method: CostMethodName | None = Field(
        default=None, description="Changing it folds the portfolio's history again"
    )
    auto_book_dividends: StrictBool | None = None
    team_id: uuid.UUID | None = Field(default=None, description="Admins only")
    pm_id: uuid.UUID | None = Field(default=None, description="Admins only")


class PortfolioRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    description: str
    base_currency: str
    pm_id: uuid.UUID
    team_id: uuid.UUID | None
    allow_short: bool
    allow_negative_cash: bool
    benchmark: str
    cost_method: str
    auto_book_dividends: bool
    cash_balance: DecimalString
    archived_at: datetime | None
    created_at: datetime


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID


class MemberRead(BaseModel):
    user_id: uuid.UUID
    username: str
    full_name: str
    role: str
    added_at: datetime
