from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.backtests.fills import Fill
from app.backtests.models import BacktestKind, BacktestStatus
from app.backtests.sweep import MAX_COMBINATIONS
from app.core.pagination import Page
from app.core.schemas import IsoDate, PlainDecimal, PlainInt
from app.portfolios.schemas import Ticker
from app.strategies.kinds import KindName
from app.strategies.schemas import PARAMS_HELP

MAX_CASH = Decimal("1e15")

Cash = Annotated[PlainDecimal, Field(gt=0, lt=MAX_CASH, decimal_places=2, allow_inf_nan=False)]
Rate = Annotated[PlainDecimal, Field(ge=0, lt=Decimal("0.1"), allow_inf_nan=False)]
RiskFree = Annotated[PlainDecimal, Field(gt=-1, le=1, allow_inf_nan=False)]


class Terms(BaseModel):
    """One ticker's bars over a range, and how orders fill on them."""

    ticker: Ticker
    start: IsoDate
    end: IsoDate | None = Field(default=None, description="Defaults to today")
    cash: Cash = Field(default=Decimal(100000), description="Starting cash, above 0")
    commission: Rate = Field(
        default=Decimal(0), description="A rate on each side, 0 to 0.1: 0.001 is 0.1%"
    )
    fill: Fill = Field(
        default=Fill.NEXT_OPEN,
        description="A decision on a bar's close fills at the next bar's open, or at that close",
    )
    risk_free_rate: RiskFree = Field(default=Decimal(0), description="Annual, as a fraction")

    @model_validator(mode="after")
    def _start_not_after_end(self) -> Self:
        if self.end is not None and self.start > self.end:
            raise ValueError("start is after end")
        return self


class BacktestRequest(Terms):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "sma_cross",
                    "params": {"fast": 10, "slow": 30},
                    "ticker": "AAPL",
                    "start": "2015-01-02",
                    "end": "2024-12-31",
                    "cash": "100000",
                    "commission": "0.001",
                    "fill": "next_open",
                    "risk_free_rate": "0",
                }
            ]
        },
    )

    strategy_id: PlainInt | None = Field(default=None, ge=1, description="Or kind and params")
    kind: KindName | None = None
    params: dict[str, Any] | None = Field(default=None, description=PARAMS_HELP)

    @model_validator(mode="after")
    def _strategy_or_kind(self) -> Self:
        if (self.strategy_id is None) == (self.kind is None):
            raise ValueError("give either strategy_id, or kind and params")
        if self.kind is not None and self.params is None:
            raise ValueError("kind needs its params")
        if self.strategy_id is not None and self.params is not None:
            raise ValueError("a strategy brings its own params")
        return self


class SweepRequest(Terms):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "sma_cross",
                    "params": {},
                    "grid": {"fast": [5, 10, 15, 20], "slow": [20, 30, 40, 50]},
                    "ticker": "AAPL",
                    "start": "2015-01-02",
                    "end": "2024-12-31",
                    "cash": "100000",
                    "commission": "0.001",
                }
            ]
        },
    )

    kind: KindName
    params: dict[str, Any] = Field(
        default_factory=dict, description="The parameters the grid does not vary"
    )
    grid: dict[str, list[Any]] = Field(
        min_length=1,
        description=(
            f"Values of each parameter; every combination is run (at most {MAX_COMBINATIONS:,}), "
            "those the kind forbids are skipped and counted"
        ),
    )

    @model_validator(mode="after")
    def _values_given(self) -> Self:
        if any(not values for values in self.grid.values()):
            raise ValueError("each parameter of the grid needs at least one value")
        return self


class TradeRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    entry_date: date
    exit_date: date
    entry_price: str
    exit_price: str
    quantity: int
    pnl: str
    return_: float = Field(alias="return", description="pnl / (quantity x entry_price)")
    commission: str = Field(description="Both sides")


class OpenTradeRead(BaseModel):
    entry_date: date
    entry_price: str
    quantity: int
    market_price: str = Field(description="The last bar's close")
    unrealized_pnl: str = Field(description="After the entry's commission")


class EquityRead(BaseModel):
    date: date
    equity: str
    drawdown: float = Field(description="1 - equity / its running peak")


class SweepResult(BaseModel):
    params: dict[str, Any]
    stats: dict[str, Any]


class BacktestRead(BaseModel):
    """A backtest's or sweep's state; its result once it has succeeded."""

    id: int
    kind: BacktestKind
    status: BacktestStatus
    progress: float = Field(description="From 0 to 1")
    ticker: str
    request: dict[str, Any]
    job_id: int | None = Field(description="The worker's job (see GET /jobs/{id}); none in-process")
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stale: bool | None = Field(
        default=None, description="Some bars could not be confirmed with the market-data vendor"
    )
    stats: dict[str, Any] | None = Field(default=None, description="A backtest's statistics")
    trades: list[TradeRead] | None = None
    open_trade: OpenTradeRead | None = None
    equity: list[EquityRead] | None = None
    skipped: int | None = Field(default=None, description="A sweep's forbidden combinations")
    results: list[SweepResult] | None = Field(default=None, description="A sweep's results")


class BacktestSummary(BaseModel):
    id: int
    kind: BacktestKind
    status: BacktestStatus
    progress: float
    ticker: str
    request: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


BacktestPage = Page[BacktestSummary]
