"""Trades as CSV: import a whole file in one transaction, or nothing; export booked trades.

Every row is validated before any is booked. Rows are numbered as a spreadsheet numbers
them: the header is row 1, the first trade row 2. A valid file is inserted in bulk, each
affected instrument's whole history re-folded once, and the cash moved once.
"""

import csv
import gc
import io
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record
from app.core.database import utcnow
from app.core.errors import InvalidInput
from app.market.models import Instrument
from app.market.provider import UnknownTicker
from app.market.service import MarketData
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from app.positions import service as positions
from app.positions.fold import Fill, Holding, InsufficientQuantity, fold
from app.positions.models import Position
from app.trades.booking import check_cash
from app.trades.models import Side, Trade, TradeStatus
from app.trades.schemas import ImportResult, ImportRowError, TradeCreate
from app.users.models import User

logger = logging.getLogger("folio.trades")

T = TypeVar("T")

COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_date": ("trade_date", "date"),
    "ticker": ("ticker", "symbol"),
    "side": ("side", "action", "type"),
    "quantity": ("quantity", "qty", "shares"),
    "price": ("price",),
    "fees": ("fees", "fee", "commission"),
    "notes": ("notes", "note", "memo"),
    "external_id": ("external_id", "id"),
}
REQUIRED = ("trade_date", "ticker", "side", "quantity", "price")
SIDES = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell"}
HEADER_ROW = 1
MAX_LISTED_ROWS = 100
INSERT_BATCH = 10_000
MAX_PARAMETERS = 32_767  # a statement's limit in asyncpg and SQLite
IN_BATCH = 5000
EXPORT_BATCH = 2000
PROGRESS_EVERY = 5000

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as work advances: stages `validating`, `booking`, `exporting`."""


class InvalidCsv(InvalidInput):
    code = "invalid_csv"
    message = "The CSV file has errors; nothing was booked."


def _quiet(stage: str, done: int, total: int) -> None:
    return None


class Row(NamedTuple):
    """A validated trade row, as plain values: 100,000 of them stay cheap for the collector."""

    number: int
    ticker: str
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    trade_date: date
    notes: str
    external_id: str | None

    @classmethod
    def of(cls, number: int, t: TradeCreate) -> "Row":
        return cls(
            number,
            t.ticker,
            t.side.value,
            t.quantity,
            t.price,
            t.fees,
            t.trade_date,
            t.notes,
            t.external_id,
        )

    @property
    def fill(self) -> Fill:
        return Fill(self.side, self.quantity, self.price, self.fees, self.trade_date)


class RowErrors:
    """Reasons collected by row number, raised at once as InvalidCsv."""

    def __init__(self) -> None:
        self.by_row: dict[int, list[str]] = defaultdict(list)
        # The good tickers of bad rows: checked too, so a file's every error shows at once.
        self.tickers: list[tuple[int, str]] = []

    def add(self, row: int, reason: str) -> None:
        self.by_row[row].append(reason)

    def raise_if_any(self) -> None:
        if self.by_row:
            raise invalid(self.by_row)


def invalid(by_row: dict[int, list[str]], message: str | None = None) -> InvalidCsv:
    listed = [
        ImportRowError(row=row, errors=errors).model_dump()
        for row, errors in sorted(by_row.items())[:MAX_LISTED_ROWS]
    ]
    return InvalidCsv(message, details={"rows": listed, "total": len(by_row)})


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Reading and validating


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a synchronous bulk step: on 100,000 rows its
    passes over the growing list cost more than the parsing itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid({}, f"The file is not UTF-8 text (byte {exc.start}).") from exc
    if "\x00" in text:
        raise invalid({}, "The file is binary, not CSV text.")
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        raise invalid({number + 1: [f"not readable as CSV: {exc}"]}) from exc


def _columns(header: list[str]) -> dict[str, int]:
    aliases = {alias: field for field, names in COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    errors: list[str] = []
    for index, name in enumerate(header):
        field = aliases.get(name.strip().lower().replace(" ", "_"))
        if field is None:
            continue
        if field in found:
            errors.append(f"columns {header[found[field]]!r} and {name!r} both give {field}")
        found[field] = index
    errors += [
        f"no {f} column (one of: {', '.join(COLUMNS[f])})" for f in REQUIRED if f not in found
    ]
    if errors:
        raise invalid({HEADER_ROW: errors})
    return found


def _values(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    values = {}
    for field, index in columns.items():
        cell = cells[index] if index < len(cells) else ""
        value = cell if field == "notes" else cell.strip()
        if value:
            values[field] = value
    if "side" in values:
        values["side"] = SIDES.get(values["side"].lower(), values["side"])
    return values


def _reasons(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
        for e in exc.errors(include_url=False)
    ]


def parse(data: bytes, errors: RowErrors, progress: Progress = _quiet) -> list[Row]:
    """The file's trades in file order; what is wrong with the others goes into `errors`."""
    records = list(_records(data))
    if not records:
        raise invalid({HEADER_ROW: ["the file is empty: a header row is needed"]})
    header = records[0][1]
    columns = _columns(header)
    rows: list[Row] = []
    for done, (number, cells) in enumerate(records[1:], start=1):
        if done % PROGRESS_EVERY == 0:
            progress("validating", done, len(records) - 1)
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            errors.add(number, f"{len(cells)} cells, but the header has {len(header)} columns")
            continue
        values = _values(cells, columns)
        try:
            rows.append(Row.of(number, TradeCreate.model_validate(values)))
        except ValidationError as exc:
            for reason in _reasons(exc):
                errors.add(number, reason)
            if "ticker" in values and all(e["loc"][:1] != ("ticker",) for e in exc.errors()):
                errors.tickers.append((number, values["ticker"].upper()))
    progress("validating", len(records) - 1, len(records) - 1)
    return rows


async def _instruments(
    session: AsyncSession, market: MarketData, rows: list[Row], errors: RowErrors
) -> dict[str, int]:
    """Instrument ids by ticker; a ticker the provider does not know is an error of its rows."""
    uses = [(row.number, row.ticker) for row in rows] + errors.tickers
    tickers = sorted({ticker for _, ticker in uses})
    known: dict[str, int] = {}
    for chunk in _chunks(tickers, IN_BATCH):
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
    for chunk in _chunks(list(first_row), IN_BATCH):
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
    for chunk in _chunks(instrument_ids, IN_BATCH):
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
    for batch in _chunks(rows, INSERT_BATCH):
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
    for chunk in _chunks(list(holdings), IN_BATCH):
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
    progress: Progress = _quiet,
) -> ImportResult:
    """Book every trade of the file, or none: InvalidCsv names the rows that are wrong.

    Refused like a single booking when a sell goes beyond holdings (without shorts) or when
    the file takes cash out and leaves the final balance negative (without negative cash).
    """
    errors = RowErrors()
    with _collector_paused():
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
    session: AsyncSession, portfolio_id: uuid.UUID, progress: Progress = _quiet
) -> AsyncIterator[str]:
    """The portfolio's booked trades in (trade_date, id) order, as CSV text in pieces."""
    total = await count_booked(session, portfolio_id) if progress is not _quiet else 0
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
