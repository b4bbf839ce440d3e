"""Valuation and performance as the API writes them.

Money (NAV, cash, market values, P&L) is exact: never rounded, written with at least two
decimal places. Returns, ratios and weights are fractions (0.05 is 5%) rounded to
RATIO_PLACES decimal places; `_pct` fields are percentages rounded to PERCENT_PLACES.
"""

import enum
import math
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import overload

from pydantic import BaseModel, Field

from app.core.schemas import DecimalString
from app.market.history import EXACT

RATIO_PLACES = 10
PERCENT_PLACES = 4
CENT = Decimal("0.01")


@overload
def money(value: Decimal) -> Decimal: ...


@overload
def money(value: None) -> None: ...


def money(value: Decimal | None) -> Decimal | None:
    """The exact value, trailing zeros beyond the cents dropped."""
    if value is None:
        return None
    plain = value.normalize(EXACT)
    exponent = plain.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return plain.quantize(CENT, context=EXACT)
    return plain


def ratio(value: float | Decimal | None) -> Decimal | None:
    """Rounded half to even to RATIO_PLACES; None for a float that is not finite."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-RATIO_PLACES), ROUND_HALF_EVEN, EXACT)
    if value is None or not math.isfinite(value):
        return None
    return Decimal(f"{value:.{RATIO_PLACES}f}")  # correctly rounded, half to even


def percent(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return (value * 100).quantize(Decimal(1).scaleb(-PERCENT_PLACES), ROUND_HALF_EVEN, EXACT)


class Interval(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


RATIO = f"A fraction (0.05 is 5%), rounded to {RATIO_PLACES} decimal places."


class PositionValue(BaseModel):
    ticker: str
    quantity: DecimalString
    average_cost: DecimalString
    cost_basis: DecimalString
    realized_pnl: DecimalString
    last_price: DecimalString | None = Field(description="null when no price is known")
    price_date: date | None
    price_source: str | None = Field(description="`quote` (live) or `close` (a daily close)")
    stale: bool = Field(description="The price is older than the date asked for warrants")
    market_value: DecimalString | None
    unrealized_pnl: DecimalString | None
    unrealized_pnl_pct: DecimalString | None = Field(
        description=f"Unrealized P&L over cost basis, in percent ({PERCENT_PLACES} places)"
    )
    weight: DecimalString | None = Field(description=f"Market value over NAV. {RATIO}")
    previous_close: DecimalString | None
    day_change: DecimalString | None = Field(description="quantity x (price - previous close)")
    day_change_pct: DecimalString | None


class ValuationRead(BaseModel):
    as_of: date
    nav: DecimalString | None = Field(description="null when a holding has no price at all")
    cash: DecimalString
    market_value: DecimalString | None
    cost_basis: DecimalString
    unrealized_pnl: DecimalString | None
    unrealized_pnl_pct: DecimalString | None
    day_change: DecimalString | None
    day_change_pct: DecimalString | None
    positions: list[PositionValue]
    missing_prices: list[str] = Field(description="Tickers held with no price: not valued")
    stale_prices: list[str] = Field(
        description="Tickers valued at a close after which the vendor could not be asked"
    )
    provider: str


class FiguresRead(BaseModel):
    twr: DecimalString | None = Field(description=f"Time-weighted return. {RATIO}")
    twr_annualized: DecimalString | None = Field(
        description=f"(1 + twr)^(365 / calendar days) - 1. {RATIO}"
    )
    xirr: DecimalString | None = Field(description=f"Money-weighted annual return. {RATIO}")
    xirr_reason: str | None = Field(default=None, description="Why xirr is null")
    max_drawdown: DecimalString | None = Field(
        description=f"The deepest fall of the wealth index from a peak, 0 or negative. {RATIO}"
    )
    max_drawdown_peak: date | None
    max_drawdown_trough: date | None
    volatility: DecimalString | None = Field(
        description=f"Sample std of daily returns x sqrt(252). {RATIO}"
    )
    sharpe: DecimalString | None = Field(
        description=f"Mean over std of daily excess returns x sqrt(252). {RATIO}"
    )
    return_days: int = Field(description="Business days with a return (V_{t-1} + In_t > 0)")
    reason: str | None = Field(default=None, description="Why the figures are null")


class BenchmarkPerformance(FiguresRead):
    ticker: str


class SeriesPoint(BaseModel):
    date: date
    nav: DecimalString | None = Field(description="Exact; null when a holding had no price")
    twr_cumulative: DecimalString | None = Field(description=f"Since the start. {RATIO}")
    benchmark_cumulative: DecimalString | None = Field(description=f"Since the start. {RATIO}")


class MissingPrice(BaseModel):
    ticker: str
    first_date: date
    last_date: date
    days: int
    carried: bool = Field(
        description="Valued at its previous close (true), or not valued at all (false)"
    )
    stale: bool = Field(
        default=False,
        description="The vendor could not be asked whether these days have a bar",
    )


class PerformanceRead(FiguresRead):
    start: date | None
    end: date
    interval: Interval
    risk_free_rate: DecimalString = Field(description="Annual; compounded to a daily rate")
    benchmark: BenchmarkPerformance
    series: list[SeriesPoint]
    missing_prices: list[MissingPrice] = Field(
        description="Holdings without a close of the day: a holiday or halt (carried), "
        "days the vendor could not be asked about (stale), or no price at all"
    )
