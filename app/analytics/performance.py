"""Performance over a range: the stored NAV series, its figures, and the benchmark's.

The range's returns are those of every business day t from `start` to `end` with
V_{t-1} + In_t > 0, V_{t-1} being the NAV at the previous business day's close (the stored
row before `start`). The benchmark is a buy-and-hold of its ticker over the same days, at
adjusted closes (a total return).
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import figures, nav
from app.analytics.figures import Daily, Figures
from app.analytics.schemas import (
    RATIO_PLACES,
    BenchmarkPerformance,
    FiguresRead,
    Interval,
    MissingPrice,
    PerformanceRead,
    SeriesPoint,
    money,
    ratio,
)
from app.analytics.series import Days, business_days, previous_business_day, roll_forward
from app.analytics.series import prices as price_grid
from app.core.database import utcnow
from app.core.errors import DomainError, InvalidInput
from app.ledger import actions
from app.market import history
from app.market.calendar import last_final_date, new_york_date
from app.market.history import Closes, Wanted
from app.market.provider import UnknownTicker
from app.market.service import MarketData, normalise
from app.portfolios.models import Portfolio
from app.trades.schemas import EARLIEST_TRADE_DATE, latest_market_date


class InvalidRange(InvalidInput):
    code = "invalid_range"
    message = "The date range is not valid."


class UnknownBenchmark(InvalidInput):
    code = "unknown_ticker"
    message = "The benchmark ticker is not known to the market-data provider."


@dataclass(frozen=True)
class Query:
    start: date | None
    end: date | None
    benchmark: str | None
    interval: Interval
    risk_free_rate: Decimal


@dataclass(frozen=True)
class Curve:
    figures: Figures
    cumulative: npt.NDArray[np.floating[Any]]
    reason: str | None = None


def market_today() -> date:
    return new_york_date(utcnow())


def check_date(day: date, name: str) -> None:
    if not EARLIEST_TRADE_DATE <= day <= latest_market_date():
        raise InvalidRange(
            f"{name} must be from {EARLIEST_TRADE_DATE} to today.", details={name: day.isoformat()}
        )


async def performance(
    session: AsyncSession, market: MarketData, portfolio: Portfolio, query: Query
) -> PerformanceRead:
    end = query.end or market_today()
    check_date(end, "end")
    if query.start is not None:
        check_date(query.start, "start")
        if query.start > end:
            raise InvalidRange("start is after end.", details={"start": query.start, "end": end})
    ticker = _benchmark_ticker(query.benchmark or portfolio.benchmark)
    await actions.apply_splits(session, market, portfolio, min(end, last_final_date(utcnow())))
    fresh = await nav.bring_up_to_date(session, market, portfolio.id, end)
    first = await nav.first_day(session, portfolio.id, fresh)
    inception = roll_forward(first + nav.ONE_DAY) if first is not None else None
    start = max(query.start or inception or end, inception or end)
    rows = []
    if inception is not None and start <= end:
        rows = await nav.read(session, portfolio.id, previous_business_day(start), end, fresh)
    if len(rows) < 2:
        return _empty(query, start if inception else None, end, ticker)
    base, days = rows[0], rows[1:]
    mine = _portfolio_curve(rows, start, end, float(query.risk_free_rate))
    risk_free = float(query.risk_free_rate)
    theirs = await _benchmark_curve(session, market, ticker, base.date, start, end, risk_free)
    return PerformanceRead(
        **_figures(mine).model_dump(),
        start=start,
        end=end,
        interval=query.interval,
        risk_free_rate=query.risk_free_rate,
        benchmark=BenchmarkPerformance(ticker=ticker, **_figures(theirs).model_dump()),
        series=_points(days, mine, theirs, query.interval),
        missing_prices=_missing(days),
    )


def _benchmark_ticker(ticker: str) -> str:
    try:
        return normalise(ticker)
    except UnknownTicker as exc:
        raise UnknownBenchmark(details={"ticker": ticker}) from exc


def _empty(query: Query, start: date | None, end: date, ticker: str) -> PerformanceRead:
    reason = "no business day of the range has the portfolio's trades or cash"
    none = _figures(Curve(Figures(), np.zeros(0), reason))
    return PerformanceRead(
        **none.model_dump(),
        start=start,
        end=end,
        interval=query.interval,
        risk_free_rate=query.risk_free_rate,
        benchmark=BenchmarkPerformance(ticker=ticker, **none.model_dump()),
        series=[],
        missing_prices=[],
    )


def _figures(curve: Curve) -> FiguresRead:
    f, drawdown = curve.figures, curve.figures.drawdown
    return FiguresRead(
        twr=ratio(f.twr),
        twr_annualized=ratio(f.twr_annualized),
        xirr=ratio(f.xirr),
        xirr_reason=f.xirr_reason,
        max_drawdown=ratio(drawdown.depth) if drawdown else None,
        max_drawdown_peak=drawdown.peak if drawdown else None,
        max_drawdown_trough=drawdown.trough if drawdown else None,
        volatility=ratio(f.volatility),
        sharpe=ratio(f.sharpe),
        return_days=f.return_days,
        reason=curve.reason
        or (None if f.return_days else "no business day of the range had capital invested"),
    )


def _portfolio_curve(rows: list[nav.NavRow], start: date, end: date, risk_free: float) -> Curve:
    unknown = sorted({m["ticker"] for r in rows for m in r.missing or [] if not m["carried"]})
    if unknown:
        reason = f"no price for {', '.join(unknown)} on some days: the NAV is unknown there"
        return Curve(Figures(), np.full(len(rows) - 1, np.nan), reason)
    value = np.array([float(r.nav or 0) for r in rows])
    inflow = np.array([float(r.inflow) for r in rows[1:]])
    outflow = np.array([float(r.outflow) for r in rows[1:]])
    days = [r.date for r in rows[1:]]
    daily = Daily(days, value[:-1], value[1:], inflow, outflow)
    numbers = np.array([d.toordinal() for d in days], dtype=np.int64)
    flow_days = np.concatenate(([numbers[0]], numbers, [numbers[-1]]))
    flow_amounts = np.concatenate(([-value[0]], outflow - inflow, [value[-1]]))
    result, cumulative = figures.compute(
        daily, start, end, rows[0].date, (flow_days, flow_amounts), risk_free
    )
    return Curve(result, cumulative)


async def _benchmark_curve(
    session: AsyncSession,
    market: MarketData,
    ticker: str,
    base: date,
    start: date,
    end: date,
    risk_free: float,
) -> Curve:
    grid = business_days(base, end)
    try:
        closes = await _benchmark_closes(session, market, ticker, grid)
    except UnknownTicker as exc:
        raise UnknownBenchmark(details={"ticker": ticker}) from exc
    except DomainError as exc:
        return Curve(Figures(), np.full(len(grid) - 1, np.nan), exc.message)
    priced = price_grid(grid, closes, 1)
    known = priced.known[:, 0]
    if not known.any():
        reason = f"no price of {ticker} from {base} to {end}"
        return Curve(Figures(), np.full(len(grid) - 1, np.nan), reason)
    value = priced.value[:, 0].astype(float) / 10**closes.scale
    zeros = np.zeros(len(grid) - 1)
    daily = Daily(grid[1:].tolist(), value[:-1], value[1:], zeros, zeros)
    # Bought at the close before the range (dated at its start, as the portfolio's start
    # value is), or at the first close the ticker has.
    first = int(np.argmax(known))
    bought = start if first == 0 else grid[first].astype(date)
    flow_days = np.array([bought.toordinal(), grid[-1].astype(date).toordinal()])
    flow_amounts = np.array([-value[first], value[-1]])
    result, cumulative = figures.compute(
        daily, start, end, base, (flow_days, flow_amounts), risk_free
    )
    return Curve(result, cumulative)


async def _benchmark_closes(
    session: AsyncSession, market: MarketData, ticker: str, grid: Days
) -> Closes:
    """Adjusted closes through the price-history reader (the instrument is stored the first
    time the ticker is seen)."""
    instrument = await history.instrument(market, session, ticker)
    first = grid[0].astype(date) - nav.CARRY_LOOKBACK
    wanted = {instrument: Wanted(ticker, first, grid[-1].astype(date))}
    closes, _ = await history.closes(market, session, wanted, "adj_close")
    return closes


def _sample(days: list[date], interval: Interval) -> list[int]:
    """Indices of the last day of each week or month (and the last day)."""
    if interval is Interval.DAY:
        return list(range(len(days)))
    stamps = np.array(days, dtype="datetime64[D]")
    unit = "datetime64[M]" if interval is Interval.MONTH else "datetime64[W]"
    # numpy weeks start on Thursday (1970-01-01); shift so they start on Monday.
    keys = (stamps + (3 if interval is Interval.WEEK else 0)).astype(unit)
    return [int(i) for i in np.flatnonzero(np.r_[keys[1:] != keys[:-1], True])]


def _points(
    days: list[nav.NavRow], mine: Curve, theirs: Curve, interval: Interval
) -> list[SeriesPoint]:
    picks = _sample([d.date for d in days], interval)
    ours, bench = _ratios(mine.cumulative[picks]), _ratios(theirs.cumulative[picks])
    # Built without validation: every value is already of its field's type.
    return [
        SeriesPoint.model_construct(
            date=days[i].date,
            nav=money(days[i].nav),
            twr_cumulative=a,
            benchmark_cumulative=b,
        )
        for i, a, b in zip(picks, ours, bench, strict=True)
    ]


def _ratios(values: npt.NDArray[np.floating[Any]]) -> list[Decimal | None]:
    """As `ratio` does one by one, for a whole array."""
    return [Decimal(f"{v:.{RATIO_PLACES}f}") if math.isfinite(v) else None for v in values.tolist()]


def _missing(days: list[nav.NavRow]) -> list[MissingPrice]:
    found: dict[tuple[str, bool, bool], list[date]] = {}
    for row in days:
        for entry in row.missing or []:
            key = (entry["ticker"], entry["carried"], entry.get("stale", False))
            found.setdefault(key, []).append(row.date)
    return [
        MissingPrice(ticker=t, first_date=d[0], last_date=d[-1], days=len(d), carried=c, stale=s)
        for (t, c, s), d in sorted(found.items())
    ]
