"""A made-up ticker's daily bars with one split, stored as the market's own would be.

The series is generated split-adjusted (a deterministic random walk on weekdays, OHLC
consistent); the bars before the split's ex-date are stored as traded: prices times the
split's ratio, volumes divided by it. `expected` holds the adjusted arrays as floats.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from app.market import store
from app.market.provider import Action, ActionType
from tests.factories import PRICES_PROVIDER, StoredBar, store_priced

TICKER = "INDX"
BARS = 400
SPLIT_AT = 200  # the index of the split's ex-date
SPLIT_TO, SPLIT_FROM = 2, 1  # 2-for-1
CENT = Decimal("0.01")

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Day:
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int  # as adjusted: even, so that the volume as traded is whole


def _weekdays(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _price(value: float, rounding: str = ROUND_HALF_UP) -> Decimal:
    return Decimal(float(value)).quantize(CENT, rounding=rounding)


def adjusted_days() -> list[Day]:
    rng = np.random.default_rng(14)
    closes = 40 * np.exp(np.cumsum(rng.normal(0.0004, 0.018, BARS)))
    opens = np.r_[closes[0], closes[:-1]] * np.exp(rng.normal(0, 0.005, BARS))
    reach = np.abs(rng.normal(0, 0.01, (2, BARS)))
    volumes = 2 * rng.integers(200_000, 2_000_000, BARS)
    days = _weekdays(date(2022, 1, 3), BARS)
    out = []
    for i, day in enumerate(days):
        o, c = _price(opens[i]), _price(closes[i])
        high = max(o, c, _price(float(max(o, c)) * (1 + reach[0, i]), ROUND_CEILING))
        low = min(o, c, _price(float(min(o, c)) * (1 - reach[1, i]), ROUND_FLOOR))
        out.append(Day(day, o, high, low, c, int(volumes[i])))
    return out


DAYS = adjusted_days()
DATES = [d.date for d in DAYS]
EX_DATE = DATES[SPLIT_AT]


def expected() -> dict[str, Floats]:
    """The split-adjusted arrays, as TA-Lib takes them."""
    fields = ("open", "high", "low", "close", "volume")
    return {f: np.array([float(getattr(d, f)) for d in DAYS], dtype=np.float64) for f in fields}


def _as_traded(day: Day) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    ratio = SPLIT_TO // SPLIT_FROM if day.date < EX_DATE else 1
    return (
        day.open * ratio,
        day.high * ratio,
        day.low * ratio,
        day.close * ratio,
        day.volume // ratio,
    )


async def store_history(session: AsyncSession, ticker: str = TICKER) -> int:
    """The instrument, its bars as traded, the dates covered, and the split; committed."""
    bars = []
    for day in DAYS:
        o, h, lo, c, volume = _as_traded(day)
        bars.append(StoredBar(day.date, o, h, lo, c, day.close, volume))
    instrument_id = await store_priced(session, ticker, bars)
    split = Action(ActionType.SPLIT, EX_DATE, split_to=SPLIT_TO, split_from=SPLIT_FROM)
    await store.save_actions(session, instrument_id, PRICES_PROVIDER, [split])
    await session.commit()
    return instrument_id
