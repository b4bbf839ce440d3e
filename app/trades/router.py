"""Trades: book, list, read, cancel, and CSV import/export."""

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from app.auth.dependencies import CurrentUser
from app.core.database import SessionDep, SessionmakerDep
from app.core.errors import DomainError, PayloadTooLarge, responses
from app.core.idempotency import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.core.pagination import Page, PageDep
from app.core.schemas import IsoDate, PlainInt
from app.ledger.models import Side, TradeStatus
from app.ledger.posting import DuplicateExternalId, TradeAlreadyCancelled, TradeNotFound
from app.ledger.rules import InsufficientCash, InsufficientQuantity
from app.market.provider import MarketDataUnavailable, UnknownTickerInRequest
from app.portfolios.dependencies import (
    BOOKS_RESPONSES,
    IdempotentDep,
    PortfolioForCancel,
    PortfolioForImport,
    PortfolioForRead,
    PortfolioForTrading,
)
from app.portfolios.service import PortfolioArchived
from app.state import MarketDep
from app.trades import booking, csv_io, csv_rows
from app.trades.csv_rows import InvalidCsv
from app.trades.dependencies import TradeInstrument
from app.trades.schemas import ImportFile, ImportResult, TradeCancel, TradeCreate, TradeRead

router = APIRouter(prefix="/portfolios/{slug}/trades", tags=["trades"], responses=BOOKS_RESPONSES)

TradeId = Annotated[PlainInt, Path(ge=1, le=2**63 - 1, description="The trade's id")]
BOOKING_ERRORS = responses(
    InsufficientCash,
    InsufficientQuantity,
    PortfolioArchived,
    UnknownTickerInRequest,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
    DuplicateExternalId,
    MarketDataUnavailable,
)


@router.get("", response_model=Page[TradeRead], summary="Trades, newest first")
async def list_trades(
    portfolio: PortfolioForRead,
    session: SessionDep,
    page: PageDep,
    ticker: str | None = None,
    side: Side | None = None,
    status: TradeStatus | None = None,
    start: IsoDate | None = None,
    end: IsoDate | None = None,
) -> Page[TradeRead]:
    filters = {"ticker": ticker, "side": side, "status": status, "start": start, "end": end}
    items, total = await booking.list_trades(
        session, portfolio.id, filters, page.limit, page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "",
    response_model=TradeRead,
    status_code=201,
    responses=BOOKING_ERRORS,
    summary="Book a trade (send an Idempotency-Key to retry safely)",
)
async def book_trade(
    body: TradeCreate,
    instrument: TradeInstrument,
    portfolio: PortfolioForTrading,
    user: CurrentUser,
    session: SessionDep,
    idempotent: IdempotentDep,
) -> JSONResponse:
    run = partial(booking.book, session, user, portfolio, instrument, body)
    return await idempotent.post(f"trade:{portfolio.id}", body, run)


@router.post(
    "/import",
    response_model=ImportResult,
    status_code=201,
    responses=responses(
        InvalidCsv,
        InsufficientCash,
        InsufficientQuantity,
        PortfolioArchived,
        PayloadTooLarge,
        MarketDataUnavailable,
        IdempotencyKeyReused,
        IdempotencyKeyInFlight,
    ),
    summary="Import trades from CSV: every row is booked, or none",
    description=(
        "Columns (any order, case-insensitive, aliases in brackets): trade_date (date), "
        "ticker (symbol), side (action, type; buy/sell or b/s), quantity (qty, shares), "
        "price, and optionally fees (fee, commission), notes (note, memo), external_id (id). "
        "Dates are YYYY-MM-DD. A file with any bad row books nothing: 422 `invalid_csv` lists "
        "the rows (the header is row 1) and why. Up to 20 MB. Send an Idempotency-Key to "
        "retry safely: the same key with the same file answers the first import's result."
    ),
)
async def import_trades(
    portfolio: PortfolioForImport,
    user: CurrentUser,
    session: SessionDep,
    sessions: SessionmakerDep,
    market: MarketDep,
    idempotent: IdempotentDep,
    file: UploadFile = File(description="A CSV file of trades, UTF-8"),
) -> JSONResponse:
    upload = ImportFile(sha256=await asyncio.to_thread(csv_rows.digest, file.file))
    portfolio_id, user_id = portfolio.id, user.id
    run = partial(csv_io.import_csv, session, market, user, portfolio_id, file.file)
    try:
        return await idempotent.post(f"import:{portfolio_id}", upload, run)
    except DomainError as exc:
        await session.rollback()  # SQLite: the refusal's own transaction needs the write lock
        await csv_io.audit_refusal(sessions, user_id, portfolio_id, upload.sha256, exc)
        raise


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The booked trades as CSV"}},
    summary="Export booked trades as CSV, oldest first (the columns import reads)",
)
async def export_trades(
    portfolio: PortfolioForRead, sessions: SessionmakerDep
) -> StreamingResponse:
    filename = f"{portfolio.slug}-trades.csv"
    return StreamingResponse(
        csv_io.stream_export(sessions, portfolio.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{trade_id}", response_model=TradeRead, responses=responses(TradeNotFound))
async def read_trade(
    trade_id: TradeId, portfolio: PortfolioForRead, session: SessionDep
) -> TradeRead:
    return await booking.get_trade(session, portfolio.id, trade_id)


@router.post(
    "/{trade_id}/cancel",
    response_model=TradeRead,
    responses=responses(
        TradeNotFound,
        TradeAlreadyCancelled,
        booking.TradeOfAnOrder,
        InsufficientCash,
        InsufficientQuantity,
        PortfolioArchived,
    ),
    summary="Cancel a trade (it stays visible, marked cancelled)",
)
async def cancel_trade(
    trade_id: TradeId,
    body: TradeCancel,
    portfolio: PortfolioForCancel,
    user: CurrentUser,
    session: SessionDep,
) -> TradeRead:
    return await booking.cancel(session, user, portfolio, trade_id, body.reason)
