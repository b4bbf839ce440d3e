"""Return figures from a daily series: TWR, XIRR, drawdown, volatility, Sharpe and Sortino.

Money arrives here exact and leaves as floats: returns and ratios are computed in float64
(about 15 significant digits) and rounded when they are written out.
"""

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

TRADING_DAYS_PER_YEAR = 252
DAYS_PER_YEAR = 365
XIRR_GRID_POINTS = 801
XIRR_MAX_LOG_RATE = 20.0  # ln(1 + rate): rates from -100% to about e^20 - 1
XIRR_TOLERANCE = 1e-15
XIRR_MAX_STEPS = 200
ZERO_SPREAD = 1e-12

Floats = npt.NDArray[np.floating[Any]]


@dataclass(frozen=True, slots=True)
class Drawdown:
    depth: float  # the fall from the peak, as a return: 0 or negative
    peak: date | None
    trough: date | None


@dataclass(frozen=True, slots=True)
class Figures:
    twr: float | None = None
    twr_annualized: float | None = None
    xirr: float | None = None
    xirr_reason: str | None = None
    drawdown: Drawdown | None = None
    volatility: float | None = None
    sharpe: float | None = None
    return_days: int = 0


@dataclass(frozen=True, slots=True)
class Daily:
    """A series over business days: the previous close's value, the day's close and flows."""

    dates: list[date]
    previous: Floats  # V_{t-1}
    value: Floats  # V_t
    inflow: Floats  # at the start of the day
    outflow: Floats  # at the end of the day


def returns(daily: Daily) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """r_t = (V_t + Out_t) / (V_{t-1} + In_t) - 1 on the days where the denominator is > 0."""
    base = daily.previous + daily.inflow
    counted = base > 0
    r = np.zeros_like(base)
    np.divide(daily.value + daily.outflow, base, out=r, where=counted)
    r[counted] -= 1.0
    return r, counted


def annualized(total: float, days: int) -> float | None:
    if days <= 0:
        return None
    growth = 1.0 + total
    if growth <= 0:
        return -1.0
    with np.errstate(over="ignore"):  # an overflow is infinite, written as null
        return float(np.power(growth, DAYS_PER_YEAR / days)) - 1.0


def max_drawdown(base_date: date, dates: list[date], wealth: Floats) -> Drawdown:
    """The deepest fall of the wealth index below its running peak (the start counts as 1)."""
    w = np.concatenate(([1.0], wealth))
    peaks = np.maximum.accumulate(w)
    falls = w / peaks - 1.0
    trough = int(np.argmin(falls))
    if falls[trough] >= 0:
        return Drawdown(0.0, None, None)
    peak = int(np.flatnonzero(w[: trough + 1] == peaks[trough])[-1])
    days = [base_date, *dates]
    return Drawdown(float(falls[trough]), days[peak], days[trough])


def daily_risk_free(annual: float) -> float:
    """The annual risk-free rate compounded down to one trading day."""
    return float((1.0 + annual) ** (1.0 / TRADING_DAYS_PER_YEAR) - 1.0)


def volatility(r: Floats) -> float | None:
    if len(r) < 2:
        return None
    return float(np.std(r, ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR))


def sharpe(r: Floats, risk_free_daily: float) -> float | None:
    if len(r) < 2:
        return None
    excess = r - risk_free_daily
    spread = float(np.std(excess, ddof=1))
    if spread < ZERO_SPREAD:
        return None
    return float(np.mean(excess) / spread * math.sqrt(TRADING_DAYS_PER_YEAR))


def sortino(r: Floats, risk_free_daily: float) -> float | None:
    """Excess return over the downside deviation (below the risk-free rate), annualised."""
    if len(r) < 2:
        return None
    excess = r - risk_free_daily
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside < ZERO_SPREAD:
        return None
    return float(np.mean(excess) / downside * math.sqrt(TRADING_DAYS_PER_YEAR))


def xirr(days: npt.NDArray[np.int64], amounts: Floats) -> tuple[float | None, str | None]:
    """The annual rate x with sum(amount_i / (1+x)^((day_i - day_0)/365)) = 0, or why none.

    Searched on y = ln(1+x): a sign change of the net present value on a grid, then bisection
    to XIRR_TOLERANCE in y. With several roots, the one nearest 0% is taken.
    """
    keep = amounts != 0
    days, amounts = days[keep], amounts[keep]
    if not ((amounts > 0).any() and (amounts < 0).any()):
        return None, "the flows do not change sign, so no rate makes their present value zero"
    years = (days - days.min()) / DAYS_PER_YEAR
    if years.max() == 0:
        return None, "every flow falls on the same day"
    scaled = amounts / np.abs(amounts).max()
    limit = min(XIRR_MAX_LOG_RATE, 700.0 / float(years.max()))
    grid = np.linspace(-limit, limit, XIRR_GRID_POINTS)
    npv = np.exp(-np.outer(grid, years)) @ scaled
    signs = np.sign(npv)
    brackets = np.flatnonzero(signs[:-1] * signs[1:] <= 0)
    if len(brackets) == 0:
        return None, (
            f"no rate between -100% and {math.expm1(limit):.3g} makes the flows' present value zero"
        )
    nearest = int(brackets[np.argmin(np.abs(grid[brackets]))])
    y = _bisect(years, scaled, float(grid[nearest]), float(grid[nearest + 1]))
    return math.expm1(y), None


def _bisect(years: Floats, amounts: Floats, low: float, high: float) -> float:
    def npv(y: float) -> float:
        return float(np.exp(-y * years) @ amounts)

    f_low = npv(low)
    if f_low == 0:
        return low
    for _ in range(XIRR_MAX_STEPS):
        if high - low <= XIRR_TOLERANCE * max(1.0, abs(low)):
            break
        middle = (low + high) / 2
        f_middle = npv(middle)
        if f_middle == 0:
            return middle
        if (f_middle > 0) == (f_low > 0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return (low + high) / 2


def compute(
    daily: Daily,
    start: date,
    end: date,
    base_date: date,
    flows: tuple[npt.NDArray[np.int64], Floats],
    risk_free_annual: float,
) -> tuple[Figures, Floats]:
    """Every figure of the range, and the cumulative TWR of each day."""
    with np.errstate(all="ignore"):  # infinite or undefined figures are written as null
        return _compute(daily, start, end, base_date, flows, risk_free_annual)


def _compute(
    daily: Daily,
    start: date,
    end: date,
    base_date: date,
    flows: tuple[npt.NDArray[np.int64], Floats],
    risk_free_annual: float,
) -> tuple[Figures, Floats]:
    r, counted = returns(daily)
    wealth = np.cumprod(1.0 + r)
    if not counted.any():
        return Figures(), wealth - 1.0
    total = float(wealth[-1] - 1.0)
    rate, reason = xirr(*flows)
    counted_r = r[counted]
    figures = Figures(
        twr=total,
        twr_annualized=annualized(total, (end - start).days),
        xirr=rate,
        xirr_reason=reason,
        drawdown=max_drawdown(base_date, daily.dates, wealth),
        volatility=volatility(counted_r),
        sharpe=sharpe(counted_r, daily_risk_free(risk_free_annual)),
        return_days=int(counted.sum()),
    )
    return figures, wealth - 1.0
