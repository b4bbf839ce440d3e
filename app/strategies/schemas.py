import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.pagination import Page
from app.core.schemas import DecimalString, IsoDate, PlainDecimal, StrictBool
from app.portfolios.schemas import Slug, Ticker
from app.strategies.kinds import KindName
from app.strategies.models import EventType, Severity, SignalStatus, SignalType

MAX_TICKERS = 500
MAX_SIZE = Decimal("1e15")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Percent = Annotated[
    PlainDecimal, Field(gt=0, lt=100, decimal_places=6, allow_inf_nan=False, description="0 to 100")
]
SizingType = Literal["all_cash", "fixed_quantity", "percent_nav"]


class Sizing(BaseModel):
    """How much an order of the strategy buys: all the cash, a number of shares, or a percent
    of the portfolio's NAV."""

    model_config = ConfigDict(extra="forbid")

    type: SizingType = "all_cash"
    value: (
        Annotated[PlainDecimal, Field(gt=0, lt=MAX_SIZE, decimal_places=8, allow_inf_nan=False)]
        | None
    ) = Field(default=None, description="Shares, or a percent; none for all_cash")

    @model_validator(mode="after")
    def _value_fits_type(self) -> Self:
        if self.type == "all_cash" and self.value is not None:
            raise ValueError("all_cash takes no value")
        if self.type != "all_cash" and self.value is None:
            raise ValueError(f"{self.type} needs a value")
        if self.type == "percent_nav" and self.value is not None and self.value > 100:
            raise ValueError("a percent of NAV is at most 100")
        return self


class SizingRead(BaseModel):
    type: SizingType
    value: DecimalString | None


PARAMS_HELP = (
    "By kind: sma_cross and ema_cross {fast, slow}; macd_cross {fast, slow, signal}; "
    "rsi_threshold {period, lower, upper}; bollinger_reversion {period, k}"
)


class StrategyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Golden cross",
                    "kind": "sma_cross",
                    "params": {"fast": 10, "slow": 30},
                    "tickers": ["AAPL", "MSFT"],
                    "portfolio": None,
                    "sizing": {"type": "percent_nav", "value": "5"},
                    "stop_loss_pct": "8",
                    "take_profit_pct": "20",
                    "active": True,
                    "auto_trade": False,
                }
            ]
        },
    )

    name: Name
    description: str = Field(default="", max_length=2000)
    kind: KindName
    params: dict[str, Any] = Field(description=PARAMS_HELP)
    tickers: list[Ticker] = Field(min_length=1, max_length=MAX_TICKERS)
    portfolio: Slug | None = Field(
        default=None, description="Where its orders go: a portfolio you may trade in"
    )
    sizing: Sizing = Sizing()
    stop_loss_pct: Percent | None = None
    take_profit_pct: Percent | None = None
    active: StrictBool = True
    auto_trade: StrictBool = False


class StrategyUpdate(BaseModel):
    """The settings to change; `portfolio`, `stop_loss_pct` and `take_profit_pct` are cleared
    with null, the others ignore it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    kind: KindName | None = None
    params: dict[str, Any] | None = Field(default=None, description=PARAMS_HELP)
    tickers: list[Ticker] | None = Field(default=None, min_length=1, max_length=MAX_TICKERS)
    portfolio: Slug | None = None
    sizing: Sizing | None = None
    stop_loss_pct: Percent | None = None
    take_profit_pct: Percent | None = None
    active: StrictBool | None = None
    auto_trade: StrictBool | None = None


class StrategyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    kind: str
    params: dict[str, int | float]
    tickers: list[str]
    portfolio: str | None = Field(default=None, description="The linked portfolio's slug")
    sizing: SizingRead
    stop_loss_pct: DecimalString | None
    take_profit_pct: DecimalString | None
    active: bool
    auto_trade: bool
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"start": "2025-01-02", "end": "2025-12-31"}]},
    )

    start: IsoDate
    end: IsoDate


class EvaluationJob(BaseModel):
    job_id: int | None = Field(description="The worker's job; none in the embedded mode")


class TickerError(BaseModel):
    ticker: str
    code: str
    message: str


class EvaluationRead(BaseModel):
    signals: int = Field(description="New signals stored (those stored before are not counted)")
    tickers: int = Field(description="Tickers evaluated")
    errors: list[TickerError] = Field(description="Tickers that could not be evaluated")


class SignalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    strategy_id: int
    ticker: str
    date: date
    type: SignalType
    close: DecimalString = Field(description="The split-adjusted close the rule read")
    reasons: list[str]
    indicators: dict[str, float | None]
    status: SignalStatus


class SignalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "acted"}]})

    status: Literal["acted", "ignored"]


class EventRead(BaseModel):
    id: int
    strategy_id: int
    type: EventType
    severity: Severity
    message: str
    metadata: dict[str, Any]
    created_at: datetime


StrategyPage = Page[StrategyRead]
SignalPage = Page[SignalRead]
EventPage = Page[EventRead]
