"""Stored market data: instruments, daily bars and the date ranges already fetched."""

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, cast, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from app.core.database import IN_BATCH, chunks, upsert, utcnow
from app.market.models import Instrument, PriceBar, PriceCoverage
from app.market.provider import Bar, TickerInfo

# asyncpg allows 32,767 parameters a statement; a bar has 12.
BARS_PER_INSERT = 1000
ONE_DAY = timedelta(days=1)
LOCK_TIMEOUT_MS = 1000
LOCK_NOT_AVAILABLE = "55P03"
SQLITE_WRITE_WAIT_SECONDS = 0.2


class DateRange(NamedTuple):
    start: date
    end: date


def merge(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Overlapping or touching ranges joined, oldest first."""
    merged: list[DateRange] = []
    for current in sorted(ranges):
        if merged and current.start <= merged[-1].end + ONE_DAY:
            merged[-1] = DateRange(merged[-1].start, max(merged[-1].end, current.end))
        else:
            merged.append(current)
    return merged


def gaps(wanted: DateRange, covered: Sequence[DateRange]) -> list[DateRange]:
    """The parts of `wanted` that no range of `covered` (merged) contains."""
    missing, cursor = [], wanted.start
    for have in covered:
        if have.end < cursor or have.start > wanted.end:
            continue
        if have.start > cursor:
            missing.append(DateRange(cursor, have.start - ONE_DAY))
        cursor = max(cursor, have.end + ONE_DAY)
    if cursor <= wanted.end:
        missing.append(DateRange(cursor, wanted.end))
    return missing


async def instrument_id(session: AsyncSession, ticker: str) -> int | None:
    found: int | None = await session.scalar(
        select(Instrument.id).where(Instrument.ticker == ticker)
    )
    return found


_INSTRUMENT = select(Instrument).where(Instrument.ticker == bindparam("ticker"))


async def instrument(session: AsyncSession, ticker: str) -> Instrument | None:
    found: Instrument | None = await session.scalar(_INSTRUMENT, {"ticker": ticker})
    return found


async def instrument_ids(session: AsyncSession, tickers: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in chunks(tickers, IN_BATCH):
        rows = await session.execute(
            select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(batch))
        )
        found.update(rows.tuples().all())
    return found


async def add_instruments(
    session: AsyncSession, infos: Sequence[TickerInfo], provider: str
) -> None:
    """Insert the instruments unless a concurrent transaction already did."""
    if not infos:
        return
    now = utcnow()
    rows = [
        {
            "ticker": info.ticker,
            "name": info.name[:200],
            "exchange": info.exchange,
            "asset_type": info.asset_type,
            "currency": info.currency,
            "description": info.description,
            "first_price_date": info.start_date,
            "last_price_date": info.end_date,
            "provider": provider,
            "created_at": now,
            "updated_at": now,
        }
        for info in infos
    ]
    statement = upsert(session, Instrument).on_conflict_do_nothing(index_elements=["ticker"])
    await session.execute(statement, rows)


def own_sessions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine | None]:
    """The sessions MarketData keeps its bars with, and the engine it must dispose, if any.

    On SQLite the app's engine begins every transaction with BEGIN IMMEDIATE, so a request
    that has read anything holds the write lock while it waits for market data. MarketData
    therefore gets its own engine there: reads never wait (WAL), writes give up after
    SQLITE_WRITE_WAIT_SECONDS and the bars are served without being stored.
    """
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return sessionmaker, None
    engine = create_async_engine(bind.url, connect_args={"timeout": SQLITE_WRITE_WAIT_SECONDS})
    event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys)
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False), engine


def _sqlite_foreign_keys(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class StorageBusy(Exception):
    """Another open transaction holds what this write needs; waiting could deadlock."""


@asynccontextmanager
async def writing(session: AsyncSession) -> AsyncIterator[None]:
    """A write that gives up quickly on a lock held elsewhere, raising StorageBusy.

    The lock may belong to the very request that called MarketData (its transaction is
    still open while it waits for the answer), so waiting for it would never end.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
    try:
        yield
    except OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        raise StorageBusy from exc
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise StorageBusy from exc


def info_of(row: Instrument) -> TickerInfo:
    return TickerInfo(
        ticker=row.ticker,
        name=row.name,
        exchange=row.exchange,
        asset_type=row.asset_type,
        currency=row.currency,
        description=row.description,
        start_date=row.first_price_date,
        end_date=row.last_price_date,
    )


async def coverage(session: AsyncSession, instrument: int, provider: str) -> list[DateRange]:
    rows = await session.execute(
        select(PriceCoverage.start_date, PriceCoverage.end_date).where(
            PriceCoverage.instrument_id == instrument, PriceCoverage.provider == provider
        )
    )
    return merge(DateRange(start, end) for start, end in rows)


async def save_bars(
    session: AsyncSession,
    instrument: int,
    provider: str,
    bars: Sequence[Bar],
    covered: DateRange | None,
) -> None:
    """Upsert bars and remember `covered` as fetched; the caller commits."""
    # One writer per instrument at a time, so coverage merges do not race. NO KEY UPDATE
    # leaves alone the key-share locks that rows referencing the instrument hold.
    await session.execute(
        select(Instrument.id).where(Instrument.id == instrument).with_for_update(key_share=True)
    )
    fetched_at = utcnow()
    rows = [_bar_row(instrument, provider, bar, fetched_at) for bar in bars]
    for chunk_start in range(0, len(rows), BARS_PER_INSERT):
        statement = upsert(session, PriceBar).values(
            rows[chunk_start : chunk_start + BARS_PER_INSERT]
        )
        update = {name: statement.excluded[name] for name in rows[0] if name not in _BAR_KEY}
        await session.execute(
            statement.on_conflict_do_update(index_elements=list(_BAR_KEY), set_=update)
        )
    if covered is not None:
        await _add_coverage(session, instrument, provider, covered, fetched_at)


_BAR_KEY = ("instrument_id", "date")


def _bar_row(instrument: int, provider: str, bar: Bar, fetched_at: datetime) -> dict[str, Any]:
    return {
        "instrument_id": instrument,
        "date": bar.date,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "adj_close": bar.adj_close,
        "volume": bar.volume,
        "dividend": bar.dividend,
        "split_factor": bar.split_factor,
        "provider": provider,
        "fetched_at": fetched_at,
    }


async def _add_coverage(
    session: AsyncSession, instrument: int, provider: str, new: DateRange, fetched_at: datetime
) -> None:
    ranges = merge([*await coverage(session, instrument, provider), new])
    mine = (PriceCoverage.instrument_id == instrument, PriceCoverage.provider == provider)
    await session.execute(delete(PriceCoverage).where(*mine))
    session.add_all(
        PriceCoverage(
            instrument_id=instrument,
            provider=provider,
            start_date=r.start,
            end_date=r.end,
            fetched_at=fetched_at,
        )
        for r in ranges
    )
    await session.flush()


_BAR_COLUMNS = (
    PriceBar.date,
    PriceBar.open,
    PriceBar.high,
    PriceBar.low,
    PriceBar.close,
    PriceBar.adj_close,
    PriceBar.volume,
    PriceBar.dividend,
    PriceBar.split_factor,
)


# Decoding NUMERIC as text and building the Decimals here is about twice as fast for a
# long range as the driver's binary decoding plus the column type's result processing.
_PRICES_AS_TEXT = tuple(
    cast(column, String)
    for column in (
        PriceBar.open,
        PriceBar.high,
        PriceBar.low,
        PriceBar.close,
        PriceBar.adj_close,
        PriceBar.dividend,
        PriceBar.split_factor,
    )
)


async def read_bars(
    session: AsyncSession, instrument: int, provider: str, start: date, end: date
) -> tuple[list[Bar], datetime | None]:
    """Stored bars of the range, oldest first, and when the newest of them was fetched."""
    where = (
        PriceBar.instrument_id == instrument,
        PriceBar.provider == provider,
        PriceBar.date.between(start, end),
    )
    # Through the Core connection: the ORM's row loading costs a third more on long ranges.
    connection = await session.connection()
    rows = await connection.execute(
        select(PriceBar.date, PriceBar.volume, *_PRICES_AS_TEXT)
        .where(*where)
        .order_by(PriceBar.date)
    )
    bars = [
        Bar(
            date=day,
            open=Decimal(o),
            high=Decimal(h),
            low=Decimal(lo),
            close=Decimal(c),
            adj_close=Decimal(adj),
            volume=volume,
            dividend=Decimal(div),
            split_factor=Decimal(split),
        )
        for day, volume, o, h, lo, c, adj, div, split in rows.tuples()
    ]
    newest = (
        await session.scalar(select(func.max(PriceBar.fetched_at)).where(*where)) if bars else None
    )
    return bars, newest


async def latest_bar(
    session: AsyncSession, ticker: str, provider: str
) -> tuple[Bar, datetime] | None:
    row = (
        await session.execute(
            select(*_BAR_COLUMNS, PriceBar.fetched_at)
            .join(Instrument, Instrument.id == PriceBar.instrument_id)
            .where(Instrument.ticker == ticker, PriceBar.provider == provider)
            .order_by(PriceBar.date.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    *values, fetched_at = row
    return Bar(*values), fetched_at


async def closes(
    session: AsyncSession, instruments: Sequence[int], provider: str, start: date, end: date
) -> dict[int, dict[date, Decimal]]:
    rows = await session.execute(
        select(PriceBar.instrument_id, PriceBar.date, PriceBar.close)
        .where(
            PriceBar.instrument_id.in_(instruments),
            PriceBar.provider == provider,
            PriceBar.date.between(start, end),
        )
        .order_by(PriceBar.instrument_id, PriceBar.date)
    )
    out: dict[int, dict[date, Decimal]] = {i: {} for i in instruments}
    for instrument, day, close in rows:
        out[instrument][day] = close
    return out


async def latest_closes(
    session: AsyncSession, instruments: Sequence[int], provider: str, as_of: date
) -> dict[int, tuple[date, Decimal]]:
    newest = (
        select(PriceBar.instrument_id, func.max(PriceBar.date).label("day"))
        .where(
            PriceBar.instrument_id.in_(instruments),
            PriceBar.provider == provider,
            PriceBar.date <= as_of,
        )
        .group_by(PriceBar.instrument_id)
        .subquery()
    )
    rows = await session.execute(
        select(PriceBar.instrument_id, PriceBar.date, PriceBar.close).join(
            newest,
            (PriceBar.instrument_id == newest.c.instrument_id) & (PriceBar.date == newest.c.day),
        )
    )
    return {instrument: (day, close) for instrument, day, close in rows}
