"""The stored NAV series: brought up to date from its earliest changed date, then read.

A portfolio's rows are valid up to `nav_valid_through`. Trades and cash lower that date and
bump `nav_version` (see Portfolio.invalidate_nav); bars stored after `nav_priced_at` for an
instrument the portfolio traded lower it here, when the series is next read. A refresh is
saved only if the version did not move while it ran: otherwise it runs again, the second time
holding the portfolio row FOR SHARE so that no booking can interleave.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import book as books
from app.analytics.models import PortfolioNav
from app.analytics.series import (
    Book,
    Days,
    Series,
    assemble,
    business_days,
    holdings,
    previous_business_day,
    roll_forward,
)
from app.analytics.series import prices as price_grid
from app.core.database import copy_rows, table_of, utcnow
from app.ledger import queries
from app.market import history
from app.market.calendar import last_final_date
from app.market.history import Closes, Unconfirmed, Wanted, day_numbers
from app.market.service import MarketData
from app.portfolios.models import Portfolio

logger = logging.getLogger("folio.analytics")

# Bars are stamped by the clock of the process that stored them.
CLOCK_SKEW = timedelta(seconds=2)
CARRY_LOOKBACK = timedelta(days=14)
ONE_DAY = timedelta(days=1)
UNIQUE_VIOLATION = "23505"
NAV_COLUMNS = ["portfolio_id", "date", "nav", "cash", "inflow", "outflow", "missing", "computed_at"]


@dataclass(frozen=True, slots=True)
class State:
    version: int
    valid_through: date | None
    priced_at: datetime | None
    cash: Decimal


@dataclass(frozen=True, slots=True)
class NavRow:
    date: date
    nav: Decimal | None
    inflow: Decimal
    outflow: Decimal
    missing: list[dict[str, Any]] | None


@dataclass(frozen=True)
class Fresh:
    """The rows this request computed: every row after `cut` (every row when it is None)."""

    cut: date | None
    rows: list[NavRow]


async def bring_up_to_date(
    session: AsyncSession, market: MarketData, portfolio_id: uuid.UUID, end: date
) -> Fresh | None:
    """Make the stored rows valid through `end`, recomputing from the earliest change only;
    the rows computed, if any were."""
    for lock in (False, True):
        done, fresh = await _refresh(session, market, portfolio_id, end, lock=lock)
        if done:
            return fresh
    logger.warning("NAV series of %s changed under a locked refresh", portfolio_id)
    return fresh


async def _state(session: AsyncSession, portfolio_id: uuid.UUID, *, lock: bool) -> State:
    query = select(
        Portfolio.nav_version,
        Portfolio.nav_valid_through,
        Portfolio.nav_priced_at,
        Portfolio.cash_balance,
    ).where(Portfolio.id == portfolio_id)
    if lock:
        query = query.with_for_update(read=True)
    row = (await session.execute(query)).one()
    return State(*row)


async def _refresh(
    session: AsyncSession, market: MarketData, portfolio_id: uuid.UUID, end: date, *, lock: bool
) -> tuple[bool, Fresh | None]:
    """Whether the refresh is over (False: the version moved, run it again), and its rows."""
    state = await _state(session, portfolio_id, lock=lock)
    priced_at = utcnow() - CLOCK_SKEW
    valid = await _still_valid(session, market, portfolio_id, state)
    if valid is not None and valid >= end:
        if valid == state.valid_through:
            return True, None
        return await _save_state(session, portfolio_id, state.version, valid, priced_at), None
    first = await _stored_first_day(session, portfolio_id)
    cut = valid if valid is not None and first is not None and valid >= first else None
    book = await books.load(session, portfolio_id, state.cash, cut)
    series, settled = await compute(session, market, book, cut, end)
    fresh = Fresh(cut, _nav_rows(series))
    if not await _write(session, portfolio_id, cut, series):
        return True, fresh
    valid_through = min(end, settled) if cut is None else max(cut, min(end, settled))
    return await _save_state(session, portfolio_id, state.version, valid_through, priced_at), fresh


async def _still_valid(
    session: AsyncSession, market: MarketData, portfolio_id: uuid.UUID, state: State
) -> date | None:
    valid = state.valid_through
    if valid is None or state.priced_at is None:
        return valid
    traded = queries.traded_instruments(portfolio_id)
    changed = await history.changed_since(session, market, traded, state.priced_at, valid)
    return valid if changed is None else min(valid, changed - ONE_DAY)


async def _save_state(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    version: int,
    valid_through: date,
    priced_at: datetime,
) -> bool:
    table = table_of(Portfolio)
    result = await session.execute(
        update(table)
        .where(table.c.id == portfolio_id, table.c.nav_version == version)
        .values(
            nav_valid_through=valid_through,
            nav_priced_at=priced_at,
            updated_at=table.c.updated_at,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def first_day(
    session: AsyncSession, portfolio_id: uuid.UUID, fresh: Fresh | None
) -> date | None:
    """The series' first day: the business day before the portfolio's first event."""
    if fresh is not None and fresh.cut is None:
        return fresh.rows[0].date if fresh.rows else None
    return await _stored_first_day(session, portfolio_id)


async def _stored_first_day(session: AsyncSession, portfolio_id: uuid.UUID) -> date | None:
    first: date | None = await session.scalar(
        select(func.min(PortfolioNav.date)).where(PortfolioNav.portfolio_id == portfolio_id)
    )
    return first


def _grid(book: Book, cut: date | None, end: date) -> Days | None:
    if cut is not None:
        start = roll_forward(cut + ONE_DAY)
    elif book.first_day is not None:
        start = previous_business_day(book.first_day)
    else:
        return None
    grid = business_days(start, end)
    return grid if len(grid) else None


async def compute(
    session: AsyncSession, market: MarketData, book: Book, cut: date | None, end: date
) -> tuple[Series | None, date]:
    """The series from the day after `cut` (or the day before the first event) to `end`,
    and the last day of it that is settled: its closes final and confirmed."""
    settled = last_final_date(utcnow())
    grid = _grid(book, cut, end)
    if grid is None:
        return None, settled
    held = holdings(grid, book)
    holding = np.asarray(held.quantity != 0)
    columns = [int(c) for c in np.flatnonzero(holding.any(axis=0))]
    first = grid[0].astype(date)
    wanted = {
        book.instruments[c]: Wanted(book.tickers[c], first - CARRY_LOOKBACK, end) for c in columns
    }
    closes, unconfirmed = await history.closes(market, session, wanted)
    closes = _reindex(closes, np.array(columns, dtype=np.int64))
    closes = await _before_grid(session, market, book, grid, holding, closes)
    priced = price_grid(grid, closes, len(book.instruments))
    stale = _unconfirmed(grid, book, unconfirmed)
    inside = [max(u.start, first) for u in unconfirmed if u.end >= first]
    if inside:
        settled = min(settled, min(inside) - ONE_DAY)
    return assemble(grid, book, held, priced, closes.scale, stale), settled


def _reindex(closes: Closes, columns: Any) -> Closes:
    """Closes loaded for a subset of columns, renumbered to the book's columns."""
    if not len(columns):
        return closes
    return Closes(columns[closes.column], closes.day, closes.value, closes.scale)


async def _before_grid(
    session: AsyncSession, market: MarketData, book: Book, grid: Days, holding: Any, closes: Closes
) -> Closes:
    """Add the last close before the grid of holdings that have none on its first day."""
    first = day_numbers(grid[:1])[0]
    priced = np.zeros(len(book.instruments), dtype=bool)
    priced[closes.column[closes.day <= first]] = True
    unpriced = [int(c) for c in np.flatnonzero(holding[0] & ~priced)]
    if not unpriced:
        return closes
    tickers = {book.instruments[c]: book.tickers[c] for c in unpriced}
    latest, _ = await history.recent(market, session, tickers, grid[0].astype(date))
    extras = [
        (c, [latest[i][0][0]], [latest[i][0][1]])
        for c, i in zip(unpriced, tickers, strict=True)
        if i in latest
    ]
    return history.merge(closes, extras)


def _unconfirmed(grid: Days, book: Book, unconfirmed: list[Unconfirmed]) -> Any:
    """Days x instruments: True where the vendor could not be asked about the day."""
    marks = np.zeros((len(grid), len(book.instruments)), dtype=bool)
    column = {ticker: c for c, ticker in enumerate(book.tickers)}
    days = day_numbers(grid)
    for u in unconfirmed:
        inside = (days >= (u.start - date(1970, 1, 1)).days) & (
            days <= (u.end - date(1970, 1, 1)).days
        )
        marks[inside, column[u.ticker]] = True
    return marks


def _nav_rows(series: Series | None) -> list[NavRow]:
    if series is None:
        return []
    return [
        NavRow(day, series.nav[i], series.inflow[i], series.outflow[i], series.missing[i])
        for i, day in enumerate(series.days)
    ]


async def _write(
    session: AsyncSession, portfolio_id: uuid.UUID, cut: date | None, series: Series | None
) -> bool:
    """Replace the rows after `cut`; False when a concurrent request stored them first."""
    mine = PortfolioNav.portfolio_id == portfolio_id
    stale = delete(PortfolioNav).where(mine)
    try:
        async with session.begin_nested():
            await session.execute(stale.where(PortfolioNav.date > cut) if cut else stale)
            if series is not None:
                await _insert(session, portfolio_id, series)
    except Exception as exc:
        if _sqlstate(exc) != UNIQUE_VIOLATION:
            raise
        logger.info("NAV series of %s stored by a concurrent request", portfolio_id)
        return False
    return True


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return str(state) if state else None


async def _insert(session: AsyncSession, portfolio_id: uuid.UUID, series: Series) -> None:
    """On PostgreSQL by binary COPY (the rows after the cut were just deleted)."""
    now = utcnow()
    money = zip(series.nav, series.cash, series.inflow, series.outflow, strict=True)
    rows = [
        (portfolio_id, day, *amounts, missing, now)
        for day, amounts, missing in zip(series.days, money, series.missing, strict=True)
    ]
    table = table_of(PortfolioNav)
    if session.get_bind().dialect.name == "postgresql":
        records = [(*r[:6], json.dumps(r[6]) if r[6] else None, r[7]) for r in rows]
        await copy_rows(session, table, NAV_COLUMNS, records)
        return
    await session.execute(insert(table), [dict(zip(NAV_COLUMNS, r, strict=True)) for r in rows])


async def read(
    session: AsyncSession, portfolio_id: uuid.UUID, first: date, last: date, fresh: Fresh | None
) -> list[NavRow]:
    """The rows from `first` to `last`: stored ones, then those this request computed."""
    upto = last if fresh is None else min(last, fresh.cut) if fresh.cut else None
    stored = await _stored(session, portfolio_id, first, upto) if upto and first <= upto else []
    computed = [r for r in fresh.rows if first <= r.date <= last] if fresh else []
    return stored + computed


async def _stored(
    session: AsyncSession, portfolio_id: uuid.UUID, first: date, last: date
) -> list[NavRow]:
    rows = await session.execute(
        select(
            PortfolioNav.date,
            PortfolioNav.nav,
            PortfolioNav.inflow,
            PortfolioNav.outflow,
            PortfolioNav.missing,
        )
        .where(PortfolioNav.portfolio_id == portfolio_id, PortfolioNav.date.between(first, last))
        .order_by(PortfolioNav.date)
    )
    return [NavRow(*row) for row in rows]
