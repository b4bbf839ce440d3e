"""Trades as CSV: import a whole file in one transaction, or nothing; export booked trades.

Every row is validated (csv_rows) before any is booked. A valid file is inserted in bulk,
each affected instrument's whole history re-folded once, and the cash moved once.
"""

import asyncio
import csv
import io
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record
from app.core.database import chunks
from app.core.errors import DomainError
from app.ledger import posting
from app.ledger.models import Side, Trade, TradeStatus
from app.market.models import Instrument
from app.market.service import MarketData, final_date
from app.portfolios import service as portfolios
from app.trades.csv_rows import COLUMNS, Progress, Row, RowErrors, inert, parse, quiet
from app.trades.schemas import ImportResult
from app.users.models import User

logger = logging.getLogger("folio.trades")

IN_BATCH = 5000
EXPORT_BATCH = 2000


async def _instruments(
    session: AsyncSession, market: MarketData, rows: list[Row], errors: RowErrors
) -> dict[str, int]:
    """Instrument ids by ticker; a ticker the provider does not know is an error of its rows."""
    uses = [(row.number, row.ticker) for row in rows] + errors.tickers
    known, unknown = await market.ensure_instruments(session, [ticker for _, ticker in uses])
    instruments = {i: t for t, i in known.items()}
    await market.ensure_actions(session, instruments, final_date(), first_time=True)
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


async def import_csv(
    session: AsyncSession,
    market: MarketData,
    user: User,
    portfolio_id: uuid.UUID,
    source: BinaryIO,
    progress: Progress = quiet,
) -> ImportResult:
    """Book every trade of the file, or none: InvalidCsv names the rows that are wrong.

    Refused like a single booking when a sell goes beyond holdings (without shorts) or when
    cash would go below zero on any day (without negative cash).
    """
    errors = RowErrors()
    # Off the event loop: other requests are answered while a large file is read.
    rows = await asyncio.to_thread(parse, source, errors, progress)
    instruments = await _instruments(session, market, rows, errors)
    portfolio = await portfolios.lock(session, portfolio_id)
    await _check_external_ids(session, portfolio_id, rows, errors)
    errors.raise_if_any()
    if not rows:
        return ImportResult(booked=0, first_trade_id=None, last_trade_id=None)
    progress("booking", 0, len(rows))
    trades = [row.new_trade(instruments[row.ticker]) for row in rows]
    posted = await posting.post_trades(session, user.id, portfolio, trades, audit_each=False)
    progress("booking", len(rows), len(rows))
    return ImportResult(
        booked=len(posted.ids), first_trade_id=posted.ids[0], last_trade_id=posted.ids[-1]
    )


async def audit_refusal(
    sessions: async_sessionmaker[AsyncSession],
    actor_id: uuid.UUID,
    portfolio_id: uuid.UUID,
    sha256: str,
    refusal: DomainError,
) -> None:
    """Record a refused import in a transaction of its own: the import's is rolled back."""
    async with sessions() as session, session.begin():
        await record(
            session,
            actor_id=actor_id,
            action="trades.import_refused",
            object_type="portfolio",
            object_id=portfolio_id,
            portfolio_id=portfolio_id,
            after={"code": refusal.code, "message": refusal.message, "sha256": sha256},
        )
    logger.info("trades import refused", extra={"portfolio_id": str(portfolio_id)})


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
        inert(notes),
        inert(external_id or ""),
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
