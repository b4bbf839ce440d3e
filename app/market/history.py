"""The price-history reader: every read of prices over dates goes through it.

For each instrument and range it first makes the store complete: the final dates its
coverage lacks are fetched (tickers concurrently, each through the single flight). A date
is then either a bar or a day the vendor confirmed it has none (a holiday, a halt). What
could not be fetched is named (`Unconfirmed`), and the answer uses what is stored.

Closes are carried as integers at up to PRICE_PLACES decimal places: exact for every close
with at most that many places, and rounded half away from zero beyond it.
"""

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import chunks, release_reads, utcnow
from app.market import store
from app.market.calendar import last_final_date
from app.market.provider import ActionType, Bar
from app.market.service import MARKET_ERRORS, MAX_QUOTES, MarketData, final_date
from app.market.store import DateRange

PRICE_PLACES = 6
PRICE_LIMIT = 9 * 10**12  # x 10**PRICE_PLACES still fits a 64-bit integer
RECENT_WINDOW = timedelta(days=31)
EXACT = Context(prec=200)
EPOCH_DAY = date(1970, 1, 1)  # day numbers count from it

Ints = npt.NDArray[np.int64]


class Wanted(NamedTuple):
    ticker: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """Dates the vendor could not be asked about: their prices are what the store has."""

    ticker: str
    start: date
    end: date


@dataclass(frozen=True)
class Closes:
    """Closes as flat arrays sorted by (column, day): close x 10**scale."""

    column: Ints
    day: Ints  # days since 1970-01-01
    value: npt.NDArray[Any]
    scale: int


@dataclass(frozen=True)
class Confirmed:
    unconfirmed: list[Unconfirmed]
    unstored: dict[int, list[Bar]]  # fetched while storage was busy elsewhere


def day_numbers(days: npt.NDArray[np.datetime64]) -> Ints:
    return days.astype("datetime64[D]").astype(np.int64)


def places(values: Iterable[Decimal]) -> int:
    """The most decimal places any value needs (trailing zeros do not count)."""
    exponents = (v.normalize(EXACT).as_tuple().exponent for v in values if v)
    return max((max(0, -e) for e in exponents if isinstance(e, int)), default=0)


def fewest_places(values: Ints, scale: int) -> tuple[Ints, int]:
    """The same numbers at the smallest scale that keeps every one an integer."""
    while scale and not (values % 10).any():
        values = values // 10
        scale -= 1
    return values, scale


async def instrument(market: MarketData, session: AsyncSession, ticker: str) -> int:
    """The stored instrument's id, created (after asking the provider) when missing: by the
    market's own sessions, else (on SQLite, whose write lock this session holds) in it."""
    found = await store.instrument_id(session, ticker)
    if found is not None:
        return found
    await release_reads(session)
    try:
        return await market.stored_instrument(ticker)
    except store.StorageBusy:
        return (await market.ensure_instrument(session, ticker)).id


async def confirm(
    market: MarketData, session: AsyncSession, wanted: Mapping[int, Wanted]
) -> Confirmed:
    """Fetch what the store has not covered of each instrument's range (final dates only)."""
    final = last_final_date(utcnow())
    ranges = {i: DateRange(w.start, min(w.end, final)) for i, w in wanted.items()}
    ranges = {i: r for i, r in ranges.items() if r.start <= r.end}
    covered = await store.coverages(session, list(ranges), market.provider.name)
    missing = [(i, gap) for i, r in ranges.items() for gap in store.gaps(r, covered[i])]
    if not missing:
        return Confirmed([], {})
    await release_reads(session)
    answers: list[list[Bar] | None] = []
    for batch in chunks(missing, MAX_QUOTES):  # more at once would queue for the market's pool
        answers += await asyncio.gather(
            *(_fill(market, wanted[i].ticker, i, gap) for i, gap in batch)
        )
    unconfirmed: list[Unconfirmed] = []
    unstored: dict[int, list[Bar]] = {}
    for (instrument, gap), answer in zip(missing, answers, strict=True):
        if answer is None:
            unconfirmed.append(Unconfirmed(wanted[instrument].ticker, *gap))
        elif answer:
            unstored.setdefault(instrument, []).extend(answer)
    return Confirmed(unconfirmed, unstored)


async def _fill(
    market: MarketData, ticker: str, instrument: int, wanted: DateRange
) -> list[Bar] | None:
    try:
        return await market.fill(ticker, instrument, wanted)
    except MARKET_ERRORS:
        return None


async def closes(
    market: MarketData,
    session: AsyncSession,
    wanted: Mapping[int, Wanted],
    column: str = "close",
) -> tuple[Closes, list[Unconfirmed]]:
    """Closes (or adjusted closes) of the instruments over their ranges, complete by the
    store's coverage; column i of the answer is the i-th instrument of `wanted`."""
    found = await confirm(market, session, wanted)
    instruments = list(wanted)
    start = min((w.start for w in wanted.values()), default=date.today())
    end = max((w.end for w in wanted.values()), default=start)
    stored = await _load(session, market.provider.name, instruments, start, end, column)
    position = {instrument: i for i, instrument in enumerate(instruments)}
    extras = [
        (position[i], [b.date for b in bars], [getattr(b, column) for b in bars])
        for i, bars in found.unstored.items()
    ]
    return merge(stored, extras), found.unconfirmed


async def recent(
    market: MarketData, session: AsyncSession, tickers: Mapping[int, str], as_of: date
) -> tuple[dict[int, list[tuple[date, Decimal]]], list[Unconfirmed]]:
    """Each instrument's last two closes on or before `as_of` within RECENT_WINDOW (newest
    first), else its last stored close of any age."""
    wanted = {i: Wanted(t, as_of - RECENT_WINDOW, as_of) for i, t in tickers.items()}
    found = await confirm(market, session, wanted)
    ids = list(tickers)
    provider = market.provider.name
    out = await store.recent_closes(session, provider, ids, as_of - RECENT_WINDOW, as_of)
    for instrument, bars in found.unstored.items():
        newest = [(b.date, b.close) for b in reversed(bars) if b.date <= as_of]
        out[instrument] = newest[:2] or out.get(instrument, [])
    unconfirmed = found.unconfirmed
    lacking = [i for i in ids if i not in out]
    if lacking:  # no bar in the window: the ticker's last ones, by the vendor's metadata
        ends = await store.last_price_dates(session, lacking)
        last = {i: min(day, as_of) for i, day in ends.items() if day is not None and day < as_of}
        if last:
            earlier = {i: Wanted(tickers[i], day - RECENT_WINDOW, day) for i, day in last.items()}
            unconfirmed += (await confirm(market, session, earlier)).unconfirmed
        older = await store.latest_closes(session, lacking, provider, as_of)
        out |= {i: [close] for i, close in older.items()}
    return out, unconfirmed


@dataclass(frozen=True)
class Adjusted:
    """A ticker's daily bars with earlier prices divided and volumes multiplied by later
    splits' ratios, so a split never looks like a crash (floats: for indicators)."""

    days: npt.NDArray[np.datetime64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]


# A ticker's stored bars as floats (each the nearest to the exact price), oldest first.
_FIELDS = ("open", "high", "low", "close", "volume")
_BARS = np.dtype([("day", "<i8"), *((name, "<f8") for name in _FIELDS)])


async def adjusted(
    market: MarketData, session: AsyncSession, ticker: str, start: date, end: date
) -> tuple[Adjusted, list[Unconfirmed]]:
    """The ticker's split-adjusted bars from start to end, complete by the store's coverage
    and by its splits known up to the last close."""
    instrument_id = await instrument(market, session, ticker)
    found, unconfirmed = await adjusted_many(
        market, session, {instrument_id: Wanted(ticker, start, end)}
    )
    return found[instrument_id], unconfirmed


async def adjusted_many(
    market: MarketData, session: AsyncSession, wanted: Mapping[int, Wanted]
) -> tuple[dict[int, Adjusted], list[Unconfirmed]]:
    """Each stored instrument's split-adjusted bars over its range, complete by the store's
    coverage and by its splits known up to the last close; read in one pass for them all."""
    tickers = {i: w.ticker for i, w in wanted.items()}
    unasked = set(await market.ensure_actions(session, tickers, final_date()))
    found = await confirm(market, session, wanted)
    stored = await _stored_bars(session, market.provider.name, wanted)
    splits: dict[int, list[store.StoredAction]] = {}
    for split in await store.actions(session, list(wanted), kind=ActionType.SPLIT):
        splits.setdefault(split.instrument_id, []).append(split)
    bars = {
        i: _adjust(_with_fetched(stored[i], found.unstored.get(i, [])), splits.get(i, []))
        for i in wanted
    }
    unconfirmed = found.unconfirmed + [
        Unconfirmed(w.ticker, w.start, w.end) for w in wanted.values() if w.ticker in unasked
    ]
    return bars, unconfirmed


async def traded(
    market: MarketData, session: AsyncSession, wanted: Mapping[int, Wanted]
) -> tuple[dict[int, list[Bar]], list[Unconfirmed]]:
    """Each instrument's bars over its range as traded (exact, not adjusted: what orders
    fill on), complete by the store's coverage."""
    found = await confirm(market, session, wanted)
    bars: dict[int, list[Bar]] = {}
    for i, w in wanted.items():
        stored, _ = await store.read_bars(session, i, market.provider.name, w.start, w.end)
        fetched = {b.date: b for b in found.unstored.get(i, []) if w.start <= b.date <= w.end}
        by_day = {b.date: b for b in stored} | fetched
        bars[i] = [by_day[day] for day in sorted(by_day)]
    return bars, found.unconfirmed


def _with_fetched(stored: npt.NDArray[Any], fetched: list[Bar]) -> npt.NDArray[Any]:
    """The stored bars with those fetched but not stored; a fetched bar replaces a stored one
    of the same day."""
    if not fetched:
        return stored
    both = np.concatenate([stored, _as_floats(fetched)])
    order = np.argsort(both["day"], kind="stable")  # the fetched bar last of its day
    both = both[order]
    return both[np.r_[both["day"][1:] != both["day"][:-1], True]]


def _adjust(bars: npt.NDArray[Any], splits: Sequence[store.StoredAction]) -> Adjusted:
    days = bars["day"].astype("datetime64[D]")
    factor = np.ones(len(bars))
    for split in splits:  # every bar before the ex-date, in the shares of after it
        factor[days < np.datetime64(split.ex_date, "D")] *= split.split_to / split.split_from
    return Adjusted(
        days=days,
        open=bars["open"] / factor,
        high=bars["high"] / factor,
        low=bars["low"] / factor,
        close=bars["close"] / factor,
        volume=bars["volume"] * factor,
    )


async def _stored_bars(
    session: AsyncSession, provider: str, wanted: Mapping[int, Wanted]
) -> dict[int, npt.NDArray[Any]]:
    """Each instrument's stored bars over its range."""
    if session.get_bind().dialect.name != "postgresql":
        return {
            i: _as_floats((await store.read_bars(session, i, provider, w.start, w.end))[0])
            for i, w in wanted.items()
        }
    start = min((w.start for w in wanted.values()), default=EPOCH_DAY)
    end = max((w.end for w in wanted.values()), default=EPOCH_DAY)
    rows = await _copy_rows(session, _COPY_BARS, _BAR_ROW, list(wanted), provider, start, end)
    instrument = rows["instrument"].astype(np.int64)
    order = np.lexsort((rows["day"], instrument))
    instrument = instrument[order]
    bars = np.empty(len(rows), dtype=_BARS)
    for name in ("day", *_FIELDS):
        bars[name] = rows[name][order]
    ids = np.array(list(wanted), dtype=np.int64)
    firsts = np.searchsorted(instrument, ids, "left")
    lasts = np.searchsorted(instrument, ids, "right")
    found: dict[int, npt.NDArray[Any]] = {}
    for (i, w), first, last in zip(wanted.items(), firsts, lasts, strict=True):
        mine = bars[first:last]
        found[i] = mine[(mine["day"] >= _day(w.start)) & (mine["day"] <= _day(w.end))]
    return found


def _as_floats(bars: Sequence[Bar]) -> npt.NDArray[Any]:
    rows = [(_day(b.date), b.open, b.high, b.low, b.close, b.volume) for b in bars]
    return np.array(rows, dtype=_BARS)


def _day(day: date) -> int:
    return day.toordinal() - EPOCH_DAY.toordinal()


async def changed_since(
    session: AsyncSession,
    market: MarketData,
    instruments: Select[tuple[int]],
    after: datetime,
    through: date,
) -> date | None:
    """The earliest date up to `through` of a bar stored after `after` for the instruments."""
    return await store.first_bar_stored_after(
        session, market.provider.name, instruments, after, through
    )


# Stored closes in bulk

# Binary COPY rows of fixed width: a field count, then each field's length and value.
_COPY_CLOSES = """
SELECT instrument_id, date - DATE '1970-01-01',
       CASE WHEN {column} < {limit} THEN ({column} * {factor})::bigint ELSE -1 END
FROM price_bars
WHERE instrument_id = ANY($1::integer[]) AND provider = $2 AND date BETWEEN $3 AND $4
"""
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("instrument_size", ">i4"),
        ("instrument", ">i4"),
        ("day_size", ">i4"),
        ("day", ">i4"),
        ("price_size", ">i4"),
        ("price", ">i8"),
    ]
)
_COPY_BARS = """
SELECT instrument_id, date - DATE '1970-01-01', open::float8, high::float8, low::float8,
       close::float8, volume::float8
FROM price_bars
WHERE instrument_id = ANY($1::integer[]) AND provider = $2 AND date BETWEEN $3 AND $4
"""
_BAR_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("instrument_size", ">i4"),
        ("instrument", ">i4"),
        ("day_size", ">i4"),
        ("day", ">i4"),
    ]
    + [
        (f"{name}{part}", kind)
        for name in _FIELDS
        for part, kind in (("_size", ">i4"), ("", ">f8"))
    ]
)
_COPY_HEADER, _COPY_TRAILER = 19, 2


def _to_int(value: Decimal, scale: int) -> int:
    return int(value.scaleb(scale).to_integral_value(ROUND_HALF_UP))


def empty() -> Closes:
    nothing = np.zeros(0, dtype=np.int64)
    return Closes(nothing, nothing, nothing, 0)


async def _load(
    session: AsyncSession,
    provider: str,
    instruments: Sequence[int],
    start: date,
    end: date,
    column: str,
) -> Closes:
    if not instruments:
        return empty()
    if session.get_bind().dialect.name == "postgresql":
        fast = await _load_fast(session, provider, instruments, start, end, column)
        if fast is not None:
            return fast
    rows = await store.closes(session, instruments, provider, start, end, column)
    position = {instrument: i for i, instrument in enumerate(instruments)}
    return merge(empty(), [(position[i], list(c), list(c.values())) for i, c in rows.items()])


async def _load_fast(
    session: AsyncSession,
    provider: str,
    instruments: Sequence[int],
    start: date,
    end: date,
    column: str,
) -> Closes | None:
    """Day numbers and integer prices; None when a close is too large."""
    assert column in ("close", "adj_close")
    query = _COPY_CLOSES.format(column=column, limit=PRICE_LIMIT, factor=10**PRICE_PLACES)
    rows = await _copy_rows(session, query, _COPY_ROW, list(instruments), provider, start, end)
    if (rows["price"] < 0).any():
        return None
    value, place = fewest_places(rows["price"].astype(np.int64), PRICE_PLACES)
    index = np.zeros(max(instruments, default=0) + 1, dtype=np.int64)
    index[list(instruments)] = np.arange(len(instruments))
    column_of = index[rows["instrument"]]
    day = rows["day"].astype(np.int64)
    order = np.lexsort((day, column_of))
    return Closes(column_of[order], day[order], value[order], place)


async def _copy_rows(
    session: AsyncSession, query: str, row: np.dtype[Any], *arguments: Any
) -> npt.NDArray[Any]:
    """A query's rows by binary COPY, parsed as one NumPy record array of fixed-width rows
    (about twice as fast as arrays aggregated in SQL)."""
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    connection = await (await session.connection()).get_raw_connection()
    driver: Any = connection.driver_connection
    await driver.copy_from_query(query, *arguments, output=collect, format="binary")
    return np.frombuffer(b"".join(chunks)[_COPY_HEADER:-_COPY_TRAILER], dtype=row)


def merge(closes: Closes, extras: Sequence[tuple[int, list[date], list[Decimal]]]) -> Closes:
    """Closes with the extras (column, days, prices) added; an extra close replaces a stored
    one of the same day."""
    extras = [e for e in extras if e[1]]
    if not extras:
        return closes
    scale = max(closes.scale, min(PRICE_PLACES, places(p for e in extras for p in e[2])))
    old = closes.value * 10 ** (scale - closes.scale)
    column = np.concatenate([closes.column, *(np.full(len(d), c) for c, d, _ in extras)])
    day = np.concatenate(
        [closes.day, *(day_numbers(np.array(d, dtype="datetime64[D]")) for _, d, _ in extras)]
    )
    value = np.concatenate(
        [old, *(np.array([_to_int(p, scale) for p in ps], dtype=np.int64) for _, _, ps in extras)]
    )
    order = np.lexsort((np.arange(len(day)), day, column))
    column, day, value = column[order], day[order], value[order]
    last = np.r_[(column[1:] != column[:-1]) | (day[1:] != day[:-1]), True]
    return Closes(column[last].astype(np.int64), day[last], value[last], scale)
