"""A ticker's indicators over a range, computed over its whole split-adjusted history."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.errors import InvalidInput
from app.indicators.compute import Floats, compute
from app.indicators.spec import Indicator, parse_names
from app.market import history, store
from app.market.calendar import new_york_date
from app.market.history import Adjusted
from app.market.service import MarketData, normalise

DEFAULT_RANGE = timedelta(days=365)
# Where a ticker's history is read from when the vendor does not say where it begins.
HISTORY_FROM = date(1970, 1, 1)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")

Days = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class IndicatorTable:
    """Days of the range asked, with each day's adjusted bar and indicator columns."""

    ticker: str
    history_start: date | None  # the first bar the indicators are computed from
    provider: str
    stale: bool  # some dates or corporate actions could not be confirmed with the vendor
    days: Days
    columns: dict[str, Floats]  # open, high, low, close, volume, then the indicators'


def default_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The range asked: end defaults to today in New York, start to a year before end."""
    end = end or new_york_date(utcnow())
    start = start or max(end, date.min + DEFAULT_RANGE) - DEFAULT_RANGE
    if start > end:
        raise InvalidInput("start is after end.", details={"start": start, "end": end})
    return start, end


async def indicator_table(
    market: MarketData,
    session: AsyncSession,
    ticker: str,
    names: str | None,
    start: date | None = None,
    end: date | None = None,
) -> IndicatorTable:
    """The indicators named (comma-separated; the defaults when None) from start to end."""
    indicators = parse_names(names)
    start, end = default_range(start, end)
    ticker = normalise(ticker)
    found = await whole_history(market, session, ticker, end)
    bars = found.bars
    days, columns = _table(bars, indicators, start, end)
    return IndicatorTable(
        ticker=ticker,
        history_start=bars.days[0].item() if len(bars.days) else None,
        provider=market.provider.name,
        stale=found.stale,
        days=days,
        columns=columns,
    )


@dataclass(frozen=True)
class History:
    """A ticker's whole split-adjusted history up to a date."""

    instrument_id: int
    bars: Adjusted
    stale: bool  # some of it is unconfirmed


async def whole_history(
    market: MarketData, session: AsyncSession, ticker: str, end: date
) -> History:
    """The whole split-adjusted history up to end, and whether some of it is unconfirmed."""
    await history.instrument(market, session, ticker)
    found = await store.instrument(session, ticker)
    assert found is not None
    first = min(found.first_price_date or HISTORY_FROM, end)
    bars, unconfirmed = await history.adjusted(market, session, ticker, first, end)
    return History(found.id, bars, bool(unconfirmed))


def _table(
    bars: Adjusted, indicators: list[Indicator], start: date, end: date
) -> tuple[Days, dict[str, Floats]]:
    """The whole history's indicators, then the days from start to end of everything."""
    values = {name: getattr(bars, name) for name in PRICE_COLUMNS} | compute(bars, indicators)
    first = int(np.searchsorted(bars.days, np.datetime64(start, "D"), "left"))
    last = int(np.searchsorted(bars.days, np.datetime64(end, "D"), "right"))
    return bars.days[first:last], {k: v[first:last] for k, v in values.items()}
