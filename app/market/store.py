"""Stored market data: instruments, daily bars, the date ranges already fetched, and
corporate actions. The only module that selects from the bars table."""

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, cast, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from app.core.config import Settings
from app.core.database import IN_BATCH, among, chunks, create_engine, table_of, upsert, utcnow
from app.market.models import CorporateAction, Instrument, PriceBar, PriceCoverage
from app.market.provider import Action, ActionType, Bar, TickerInfo, actions_of_bars

# asyncpg allows 32,767 parameters a statement; a bar has 12.
BARS_PER_INSERT = 1000
ONE_DAY = timedelta(days=1)
LOCK_TIMEOUT_MS = 1000
LOCK_NOT_AVAILABLE = "55P03"
# The instrument is not committed yet: the request that creates it is still open.
FOREIGN_KEY_VIOLATION = "23503"
SQLITE_WRITE_WAIT_SECONDS = 0.2
MARKET_POOL = (2, 8)  # connections kept, and opened beyond them in a burst


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


async def instruments(session: AsyncSession, tickers: Sequence[str]) -> dict[str, Instrument]:
    found: dict[str, Instrument] = {}
    for batch in chunks(tickers, IN_BATCH):
        rows = await session.scalars(select(Instrument).where(Instrument.ticker.in_(batch)))
        found.update((row.ticker, row) for row in rows)
    return found


async def instrument_ids(session: AsyncSession, tickers: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in chunks(tickers, IN_BATCH):
        rows = await session.execute(
            select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(batch))
        )
        found.update(rows.tuples().all())
    return found


async def last_price_dates(
    session: AsyncSession, instruments: Sequence[int]
) -> dict[int, date | None]:
    """The last date the vendor has a bar for, by its metadata."""
    rows = await session.execute(
        select(Instrument.id, Instrument.last_price_date).where(
            among(session, Instrument.id, instruments)
        )
    )
    return dict(rows.tuples().all())


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
            "sector": info.sector[:64] if info.sector else None,
            "provider": provider,
            "created_at": now,
            "updated_at": now,
        }
        for info in infos
    ]
    statement = upsert(session, Instrument).on_conflict_do_nothing(index_elements=["ticker"])
    await session.execute(statement, rows)


def own_sessions(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine | None]:
    """The sessions MarketData keeps its bars with, and the engine it must dispose, if any.

    Its writes happen while requests wait for them, holding their own connections: from the
    requests' pool, a burst of requests could take every connection and leave the writes
    they wait for none. MarketData therefore gets its own small pool.

    On SQLite the app's engine begins every transaction with BEGIN IMMEDIATE, so a request
    that has read anything holds the write lock while it waits for market data. MarketData's
    own engine there never waits to read (WAL), gives up writing after
    SQLITE_WRITE_WAIT_SECONDS, and the bars are served without being stored.
    """
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return sessionmaker, None
    url = bind.url.render_as_string(hide_password=False)
    if bind.dialect.name != "sqlite":
        engine = create_engine(settings, url, pool=MARKET_POOL)
    else:
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_WRITE_WAIT_SECONDS})
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
    """A write that gives up quickly on a lock held elsewhere (or on an instrument another
    transaction has not committed yet), raising StorageBusy.

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
        if getattr(exc.orig, "sqlstate", None) not in (LOCK_NOT_AVAILABLE, FOREIGN_KEY_VIOLATION):
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
        sector=row.sector,
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
    *,
    carry_actions: bool = False,
) -> None:
    """Upsert bars and remember `covered` as fetched; the caller commits. When the provider's
    bars carry the corporate actions, they are stored too, and a covered range that joins
    the instrument's known actions extends them."""
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
    if carry_actions:
        await save_actions(session, instrument, provider, actions_of_bars(bars))
        if covered is not None:
            await _extend_actions_through(session, instrument, covered)


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


_BARS_JSON = text(
    """
    SELECT coalesce(json_agg(json_build_object(
               'date', date, 'open', open::text, 'high', high::text, 'low', low::text,
               'close', close::text, 'adj_close', adj_close::text, 'volume', volume
           ) ORDER BY date), '[]')::text,
           max(fetched_at), count(*)
    FROM price_bars
    WHERE instrument_id = :instrument AND provider = :provider AND date BETWEEN :start AND :end
    """
)


async def bars_json(
    session: AsyncSession, instrument: int, provider: str, start: date, end: date
) -> tuple[str, datetime | None, int]:
    """The stored bars of the range as the prices route's JSON array, written by PostgreSQL
    (no row becomes a Python object), when the newest was fetched, and how many there are."""
    params = {"instrument": instrument, "provider": provider, "start": start, "end": end}
    written, newest, count = (await session.execute(_BARS_JSON, params)).one()
    return written, newest, count


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
    session: AsyncSession,
    instruments: Sequence[int],
    provider: str,
    start: date,
    end: date,
    column: str = "close",
) -> dict[int, dict[date, Decimal]]:
    price = PriceBar.close if column == "close" else PriceBar.adj_close
    rows = await session.execute(
        select(PriceBar.instrument_id, PriceBar.date, price)
        .where(
            among(session, PriceBar.instrument_id, instruments),
            PriceBar.provider == provider,
            PriceBar.date.between(start, end),
        )
        .order_by(PriceBar.instrument_id, PriceBar.date)
    )
    out: dict[int, dict[date, Decimal]] = {}
    for instrument, day, close in rows:
        out.setdefault(instrument, {})[day] = close
    return out


async def recent_closes(
    session: AsyncSession, provider: str, instruments: Sequence[int], start: date, end: date
) -> dict[int, list[tuple[date, Decimal]]]:
    """Each instrument's last two closes from start to end, newest first."""
    ranked = (
        select(
            PriceBar.instrument_id,
            PriceBar.date,
            PriceBar.close,
            func.row_number()
            .over(partition_by=PriceBar.instrument_id, order_by=PriceBar.date.desc())
            .label("n"),
        )
        .where(
            among(session, PriceBar.instrument_id, instruments),
            PriceBar.provider == provider,
            PriceBar.date.between(start, end),
        )
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.instrument_id, ranked.c.date, ranked.c.close)
        .where(ranked.c.n <= 2)
        .order_by(ranked.c.instrument_id, ranked.c.date.desc())
    )
    out: dict[int, list[tuple[date, Decimal]]] = {}
    for instrument, day, close in rows.all():
        out.setdefault(instrument, []).append((day, close))
    return out


async def first_bar_stored_after(
    session: AsyncSession,
    provider: str,
    instruments: Select[tuple[int]],
    after: datetime,
    through: date,
) -> date | None:
    changed: date | None = await session.scalar(
        select(func.min(PriceBar.date)).where(
            PriceBar.fetched_at > after,
            PriceBar.provider == provider,
            PriceBar.date <= through,
            PriceBar.instrument_id.in_(instruments),
        )
    )
    return changed


async def latest_closes(
    session: AsyncSession, instruments: Sequence[int], provider: str, as_of: date
) -> dict[int, tuple[date, Decimal]]:
    newest = (
        select(PriceBar.instrument_id, func.max(PriceBar.date).label("day"))
        .where(
            among(session, PriceBar.instrument_id, instruments),
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


async def coverages(
    session: AsyncSession, instruments: Sequence[int], provider: str
) -> dict[int, list[DateRange]]:
    """Each instrument's fetched ranges, merged."""
    found: dict[int, list[DateRange]] = {i: [] for i in instruments}
    for batch in chunks(instruments, IN_BATCH):
        rows = await session.execute(
            select(
                PriceCoverage.instrument_id, PriceCoverage.start_date, PriceCoverage.end_date
            ).where(
                among(session, PriceCoverage.instrument_id, batch),
                PriceCoverage.provider == provider,
            )
        )
        for instrument, start, end in rows.tuples():
            found[instrument].append(DateRange(start, end))
    return {i: merge(ranges) for i, ranges in found.items()}


# Corporate actions


async def save_actions(
    session: AsyncSession, instrument: int, source: str, actions: Sequence[Action]
) -> None:
    """Store actions not stored yet (one per instrument, type and ex-date)."""
    if not actions:
        return
    now = utcnow()
    rows = [
        {
            "instrument_id": instrument,
            "type": a.type.value,
            "ex_date": a.ex_date,
            "pay_date": a.pay_date,
            "split_to": a.split_to,
            "split_from": a.split_from,
            "cash_amount": a.cash_amount,
            "currency": a.currency,
            "source": source,
            "fetched_at": now,
        }
        for a in actions
    ]
    statement = upsert(session, CorporateAction).on_conflict_do_nothing(
        index_elements=["instrument_id", "type", "ex_date"]
    )
    await session.execute(statement, rows)


async def _extend_actions_through(
    session: AsyncSession, instrument: int, covered: DateRange
) -> None:
    table = table_of(Instrument)
    await session.execute(
        table.update()
        .where(
            table.c.id == instrument,
            table.c.actions_through >= covered.start - ONE_DAY,
            table.c.actions_through < covered.end,
        )
        .values(actions_through=covered.end)
    )


async def set_actions_through(session: AsyncSession, instrument: int, through: date) -> None:
    table = table_of(Instrument)
    await session.execute(
        table.update()
        .where(table.c.id == instrument)
        .where((table.c.actions_through.is_(None)) | (table.c.actions_through < through))
        .values(actions_through=through)
    )


async def actions_due(
    session: AsyncSession, instruments: Sequence[int], through: date
) -> list[tuple[int, str, date | None]]:
    """The instruments whose actions are not known up to `through`: id, ticker, known to."""
    due: list[tuple[int, str, date | None]] = []
    for batch in chunks(instruments, IN_BATCH):
        rows = await session.execute(
            select(Instrument.id, Instrument.ticker, Instrument.actions_through).where(
                among(session, Instrument.id, batch),
                Instrument.actions_through.is_(None) | (Instrument.actions_through < through),
            )
        )
        due += rows.tuples().all()
    return due


class StoredAction(NamedTuple):
    id: int
    instrument_id: int
    type: ActionType
    ex_date: date
    pay_date: date | None
    split_to: int
    split_from: int
    cash_amount: Decimal
    currency: str
    source: str
    fetched_at: datetime


_ACTION_COLUMNS = (
    CorporateAction.id,
    CorporateAction.instrument_id,
    CorporateAction.type,
    CorporateAction.ex_date,
    CorporateAction.pay_date,
    CorporateAction.split_to,
    CorporateAction.split_from,
    CorporateAction.cash_amount,
    CorporateAction.currency,
    CorporateAction.source,
    CorporateAction.fetched_at,
)


async def actions(
    session: AsyncSession,
    instruments: Sequence[int],
    *,
    kind: ActionType | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[StoredAction]:
    """Stored actions of the instruments, by instrument then ex-date."""
    found: list[StoredAction] = []
    for batch in chunks(instruments, IN_BATCH):
        query = select(*_ACTION_COLUMNS).where(among(session, CorporateAction.instrument_id, batch))
        if kind is not None:
            query = query.where(CorporateAction.type == kind)
        if start is not None:
            query = query.where(CorporateAction.ex_date >= start)
        if end is not None:
            query = query.where(CorporateAction.ex_date <= end)
        rows = await session.execute(
            query.order_by(CorporateAction.instrument_id, CorporateAction.ex_date)
        )
        found += [StoredAction(*row) for row in rows.tuples()]
    return found


async def split_instruments(
    session: AsyncSession, instruments: Sequence[int] | Select[tuple[int]]
) -> set[int]:
    """Which of the instruments (a list, or a query of ids) have a split."""
    wanted = instruments if isinstance(instruments, Select) else list(instruments)
    rows = await session.scalars(
        select(CorporateAction.instrument_id)
        .where(CorporateAction.type == ActionType.SPLIT, CorporateAction.instrument_id.in_(wanted))
        .distinct()
    )
    return set(rows)
