"""A ticker's indicators over a range, computed over its whole split-adjusted history."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.errors import DomainError, InvalidInput
from app.indicators.compute import Floats, compute
from app.indicators.spec import Indicator, parse_names
from app.market import history, store
from app.market.calendar import new_york_date
from app.market.history import Adjusted, Wanted
from app.market.service import MARKET_ERRORS, MarketData, normalise

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

    def between(self, start: date, end: date) -> "IndicatorTable":
        """The days from start to end of everything."""
        first = int(np.searchsorted(self.days, np.datetime64(start, "D"), "left"))
        last = int(np.searchsorted(self.days, np.datetime64(end, "D"), "right"))
        columns = {k: v[first:last] for k, v in self.columns.items()}
        return replace(self, days=self.days[first:last], columns=columns)


@dataclass(frozen=True)
class History:
    """A ticker's whole split-adjusted history up to a date."""

    instrument_id: int
    bars: Adjusted
    stale: bool  # some of it is unconfirmed


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
    return whole_table(ticker, found, indicators, market.provider.name).between(start, end)


def whole_table(
    ticker: str, history: History, indicators: Sequence[Indicator], provider: str
) -> IndicatorTable:
    """The indicators over the ticker's whole history."""
    bars = history.bars
    return IndicatorTable(
        ticker=ticker,
        history_start=bars.days[0].item() if len(bars.days) else None,
        provider=provider,
        stale=history.stale,
        days=bars.days,
        columns={name: getattr(bars, name) for name in PRICE_COLUMNS} | compute(bars, indicators),
    )


async def whole_history(
    market: MarketData, session: AsyncSession, ticker: str, end: date
) -> History:
    """The whole split-adjusted history up to end, and whether some of it is unconfirmed."""
    found, failed = await whole_histories(market, session, [ticker], end)
    if ticker in failed:
        raise failed[ticker]
    return found[ticker]


async def whole_histories(
    market: MarketData, session: AsyncSession, tickers: Sequence[str], end: date
) -> tuple[dict[str, History], dict[str, DomainError]]:
    """Each ticker's whole history up to end, read in one pass for them all; why the
    others (unknown to the vendor, or it could not be asked) have none."""
    tickers = list(dict.fromkeys(tickers))
    known = await store.instruments(session, tickers)
    failed: dict[str, DomainError] = {}
    for ticker in (t for t in tickers if t not in known):
        try:
            await history.instrument(market, session, ticker)
        except MARKET_ERRORS as exc:
            failed[ticker] = exc
    created = [t for t in tickers if t not in known and t not in failed]
    known |= await store.instruments(session, created)
    wanted = {
        row.id: Wanted(t, min(row.first_price_date or HISTORY_FROM, end), end)
        for t, row in known.items()
    }
    bars, unconfirmed = await history.adjusted_many(market, session, wanted)
    stale = {u.ticker for u in unconfirmed}
    found = {w.ticker: History(i, bars[i], w.ticker in stale) for i, w in wanted.items()}
    return found, failed
