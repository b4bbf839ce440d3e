"""Trades as CSV: import a whole file in one transaction, or nothing; export booked trades.

Every row is validated (csv_rows) before any is booked. A valid file is inserted in bulk,
each affected instrument's whole history re-folded once, and the cash moved once.
"""

import csv
import io
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record
from app.core.database import utcnow
from app.market.models import Instrument
from app.market.provider import UnknownTicker
from app.market.service import MarketData
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from app.positions import service as positions
from app.positions.fold import Fill, Holding, InsufficientQuantity, fold
from app.positions.models import Position
from app.trades.booking import check_cash
from app.trades.csv_rows import COLUMNS, Progress, Row, RowErrors, chunks, parse, quiet
from app.trades.models import Side, Trade, TradeStatus
from app.trades.schemas import ImportResult
from app.users.models import User

logger = logging.getLogger("folio.trades")

INSERT_BATCH = 10_000
MAX_PARAMETERS = 32_767  # a statement's limit in asyncpg and SQLite
IN_BATCH = 5000
EXPORT_BATCH = 2000


async def _instruments(
    session: AsyncSession, market: MarketData, rows: list[Row], errors: RowErrors
) -> dict[str, int]:
    """Instrument ids by ticker; a ticker the provider does not know is an error of its rows."""
    uses = [(row.number, row.ticker) for row in rows] + errors.tickers
    tickers = sorted({ticker for _, ticker in uses})
    known: dict[str, int] = {}
    for chunk in chunks(tickers, IN_BATCH):
        found = await session.execute(
            select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(chunk))
        )
        known.update({ticker: id_ for ticker, id_ in found})
    unknown = set()
    for ticker in tickers:
        if ticker in known:
            continue
        try:
            known[ticker] = (await market.ensure_instrument(session, ticker)).id
        except UnknownTicker:
            unknown.add(ticker)
    for number, ticker in sorted(uses):
        if ticker in unknown:
            errors.add(number, f"ticker: {ticker} is not known to the provider")
    return known


async def _check_external_ids(
    session: AsyncSession, portfolio_id: uuid.UUID, rows: list[Row], errors: RowErrors
) -> None:
    first_row: dict[str, int] = {}
    for row in rows:
        external_id = row.external_id
        if external_id is None:
            continue
        if external_id in first_row:
            errors.add(
                row.number, f"external_id: {external_id} repeats row {first_row[external_id]}"
            )
        else:
            first_row[external_id] = row.number
    for chunk in chunks(list(first_row), IN_BATCH):
        taken = await session.execute(
            select(Trade.external_id, Trade.id).where(
                Trade.portfolio_id == portfolio_id, Trade.external_id.in_(chunk)
            )
        )
        for external_id, trade_id in taken:
            errors.add(
                first_row[external_id],
                f"external_id: {external_id} is already booked as trade {trade_id}",
            )


# Booking


async def _booked_fills(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_ids: Sequence[int]
) -> dict[int, list[Fill]]:
    fills: dict[int, list[Fill]] = defaultdict(list)
    for chunk in chunks(instrument_ids, IN_BATCH):
        result = await session.execute(
            select(
                Trade.instrument_id,
                Trade.side,
                Trade.quantity,
                Trade.price,
                Trade.fees,
                Trade.trade_date,
            )
            .where(
                Trade.portfolio_id == portfolio_id,
                Trade.status == TradeStatus.BOOKED,
                Trade.instrument_id.in_(chunk),
            )
            .order_by(Trade.instrument_id, Trade.trade_date, Trade.id)
        )
        for r in result:
            fills[r.instrument_id].append(
                Fill(r.side.value, r.quantity, r.price, r.fees, r.trade_date)
            )
    return fills


def _fold_all(
    booked: dict[int, list[Fill]],
    new: dict[int, list[Fill]],
    tickers: dict[int, str],
    *,
    allow_short: bool,
) -> dict[int, Holding]:
    """Each instrument's history with the new fills after the booked ones of the same date
    (their ids will be larger), folded from the start."""
    holdings = {}
    for instrument_id, fills in new.items():
        history = sorted(booked.get(instrument_id, []) + fills, key=_by_date)
        try:
            holdings[instrument_id] = fold(history, allow_short=allow_short)
        except InsufficientQuantity as exc:
            exc.details["ticker"] = tickers[instrument_id]
            raise
    return holdings


def _by_date(fill: Fill) -> date:
    return fill.trade_date  # sorted() is stable: the order within a date is kept


async def _insert(
    session: AsyncSession,
    user: User,
    portfolio_id: uuid.UUID,
    rows: list[Row],
    instruments: dict[str, int],
    progress: Progress,
) -> list[int]:
    """Insert in file order; the ids come back ascending in that order."""
    common = {"portfolio_id": portfolio_id, "status": TradeStatus.BOOKED, "created_by": user.id}
    common["created_at"] = utcnow()
    ids: list[int] = []
    for batch in chunks(rows, INSERT_BATCH):
        params = [common | _columns_of(row, instruments) for row in batch]
        statement = (
            insert(Trade.__table__)  # type: ignore[arg-type]
            .returning(Trade.__table__.c.id, sort_by_parameter_order=True)
            .execution_options(insertmanyvalues_page_size=MAX_PARAMETERS // len(params[0]))
        )
        ids.extend((await session.execute(statement, params)).scalars())
        progress("booking", len(ids), len(rows))
    return ids


def _columns_of(row: Row, instruments: dict[str, int]) -> dict[str, Any]:
    return {
        "instrument_id": instruments[row.ticker],
        "side": row.side,
        "quantity": row.quantity,
        "price": row.price,
        "fees": row.fees,
        "trade_date": row.trade_date,
        "notes": row.notes,
        "external_id": row.external_id,
    }


async def _save_positions(
    session: AsyncSession, portfolio_id: uuid.UUID, holdings: dict[int, Holding]
) -> None:
    existing: dict[int, Position] = {}
    for chunk in chunks(list(holdings), IN_BATCH):
        found = await session.scalars(
            select(Position).where(
                Position.portfolio_id == portfolio_id, Position.instrument_id.in_(chunk)
            )
        )
        existing.update({p.instrument_id: p for p in found})
    for instrument_id, holding in holdings.items():
        positions.save(session, existing.get(instrument_id), portfolio_id, instrument_id, holding)


async def import_csv(
    session: AsyncSession,
    market: MarketData,
    user: User,
    portfolio_id: uuid.UUID,
    data: bytes,
    progress: Progress = quiet,
) -> ImportResult:
    """Book every trade of the file, or none: InvalidCsv names the rows that are wrong.

    Refused like a single booking when a sell goes beyond holdings (without shorts) or when
    the file takes cash out and leaves the final balance negative (without negative cash).
    """
    errors = RowErrors()
    rows = parse(data, errors, progress)
    instruments = await _instruments(session, market, rows, errors)
    portfolio = await portfolios.lock(session, portfolio_id)
    await _check_external_ids(session, portfolio_id, rows, errors)
    errors.raise_if_any()
    if not rows:
        return ImportResult(booked=0, first_trade_id=None, last_trade_id=None)
    new: dict[int, list[Fill]] = defaultdict(list)
    for row in rows:
        new[instruments[row.ticker]].append(row.fill)
    booked = await _booked_fills(session, portfolio_id, list(new))
    tickers = {id_: ticker for ticker, id_ in instruments.items()}
    holdings = _fold_all(booked, new, tickers, allow_short=portfolio.allow_short)
    effect = sum((f.cash_effect for fills in new.values() for f in fills), Decimal(0))
    balance = portfolio.cash_balance + effect
    if effect < 0:
        check_cash(portfolio, balance)
    ids = await _insert(session, user, portfolio_id, rows, instruments, progress)
    await _save_positions(session, portfolio_id, holdings)
    portfolio.cash_balance = balance
    portfolio.invalidate_nav(min(row.trade_date for row in rows))
    result = ImportResult(booked=len(ids), first_trade_id=ids[0], last_trade_id=ids[-1])
    _audit(session, user, portfolio, result)
    await session.flush()
    logger.info("trades imported", extra={"count": len(ids), "portfolio_id": str(portfolio_id)})
    return result


def _audit(session: AsyncSession, user: User, portfolio: Portfolio, result: ImportResult) -> None:
    record(
        session,
        actor_id=user.id,
        action="trades.import",
        object_type="portfolio",
        object_id=portfolio.id,
        portfolio_id=portfolio.id,
        after={
            "count": result.booked,
            "first_trade_id": result.first_trade_id,
            "last_trade_id": result.last_trade_id,
        },
    )


# Export


EXPORT_COLUMNS = tuple(COLUMNS)


def _export_query(portfolio_id: uuid.UUID) -> Any:
    return (
        select(
            Trade.trade_date,
            Instrument.ticker,
            Trade.side,
            Trade.quantity,
            Trade.price,
            Trade.fees,
            Trade.notes,
            Trade.external_id,
        )
        .join(Instrument, Instrument.id == Trade.instrument_id)
        .where(Trade.portfolio_id == portfolio_id, Trade.status == TradeStatus.BOOKED)
        .order_by(Trade.trade_date, Trade.id)
    )


def _cells(row: Any) -> list[str]:
    trade_date, ticker, side, quantity, price, fees, notes, external_id = row
    side_value = side.value if isinstance(side, Side) else str(side)
    return [
        trade_date.isoformat(),
        ticker,
        side_value,
        f"{quantity:f}",
        f"{price:f}",
        f"{fees:f}",
        notes,
        external_id or "",
    ]


async def count_booked(session: AsyncSession, portfolio_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.count(Trade.id)).where(
            Trade.portfolio_id == portfolio_id, Trade.status == TradeStatus.BOOKED
        )
    )
    return total or 0


async def export_csv(
    session: AsyncSession, portfolio_id: uuid.UUID, progress: Progress = quiet
) -> AsyncIterator[str]:
    """The portfolio's booked trades in (trade_date, id) order, as CSV text in pieces."""
    total = await count_booked(session, portfolio_id) if progress is not quiet else 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    result = await session.stream(
        _export_query(portfolio_id).execution_options(yield_per=EXPORT_BATCH)
    )
    done = 0
    async for rows in result.partitions():
        writer.writerows(_cells(row) for row in rows)
        done += len(rows)
        progress("exporting", done, total)
        yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def stream_export(
    sessionmaker: async_sessionmaker[AsyncSession], portfolio_id: uuid.UUID
) -> AsyncIterator[bytes]:
    """The export in its own session, for a response that is sent after the request's ends."""
    async with sessionmaker() as session:
        async for text in export_csv(session, portfolio_id):
            if text:
                yield text.encode()
