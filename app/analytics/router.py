"""Analytics: what a portfolio is worth on a date, and how it has done over a range."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.analytics import performance as perf
from app.analytics import valuation as val
from app.analytics.schemas import Interval, PerformanceRead, ValuationRead
from app.auth.dependencies import InvalidCredentials
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.schemas import IsoDate
from app.market.service import MAX_QUOTES
from app.portfolios.dependencies import portfolio_access
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioNotFound
from app.state import MarketDep, SettingsDep

router = APIRouter(
    prefix="/portfolios/{slug}",
    tags=["analytics"],
    responses=responses(InvalidCredentials, PermissionDenied, PortfolioNotFound),
)

ForRead = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_READ))]


@router.get(
    "/valuation",
    response_model=ValuationRead,
    responses=responses(perf.InvalidRange),
    summary="Every open position valued at a date's close (today: the latest quote)",
    description=(
        "`as_of` defaults to today (New York), where positions are priced with live quotes "
        f"when there are at most {MAX_QUOTES} of them, else at their latest stored close. "
        "A position with no price is listed in `missing_prices` and left unvalued: the totals "
        "that need it are null, never computed as if it were worth 0. Money is exact; "
        "`weight` is a fraction and `_pct` fields are percentages."
    ),
)
async def read_valuation(
    portfolio: ForRead,
    session: SessionDep,
    market: MarketDep,
    as_of: Annotated[IsoDate | None, Query(description="Default: today")] = None,
) -> ValuationRead:
    return await val.valuation(session, market, portfolio, as_of)


@router.get(
    "/performance",
    response_model=PerformanceRead,
    responses=responses(perf.InvalidRange, perf.UnknownBenchmark),
    summary="Daily NAV series, TWR, XIRR, drawdown, volatility and Sharpe, and the benchmark's",
    description=(
        "Returns are those of every business day t with V(t-1) + In(t) > 0: "
        "r = (V(t) + Out(t)) / (V(t-1) + In(t)) - 1, deposits coming in at the start of the "
        "day and withdrawals going out at its end; trades, dividends, interest and fees are "
        "internal. Annualising uses the calendar days from start to end; volatility and "
        "Sharpe use 252 days a year, the risk-free rate compounded to a daily one. The "
        "benchmark is a buy-and-hold of its ticker at adjusted closes. Figures are fractions "
        "rounded to 10 decimal places; NAVs are exact. `interval` samples the series only."
    ),
)
async def read_performance(
    portfolio: ForRead,
    session: SessionDep,
    market: MarketDep,
    settings: SettingsDep,
    start: Annotated[IsoDate | None, Query(description="Default: the first trade or cash")] = None,
    end: Annotated[IsoDate | None, Query(description="Default: today")] = None,
    benchmark: Annotated[
        str | None, Query(max_length=16, description="Default: the portfolio's")
    ] = None,
    interval: Interval = Interval.DAY,
) -> Response:
    query = perf.Query(start, end, benchmark, interval, Decimal(settings.risk_free_rate))
    result = await perf.performance(session, market, portfolio, query)
    # Written by pydantic-core at once: a decade of daily points is thousands of objects.
    return Response(result.model_dump_json(), media_type="application/json")
