"""Cash: deposits, withdrawals, dividends, interest and fees."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from app.auth.dependencies import CurrentUser
from app.cash import service
from app.cash.schemas import CashCreate, CashPage, CashRead
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.idempotency import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.core.pagination import PageDep
from app.ledger.posting import instrument_for
from app.ledger.rules import InsufficientCash
from app.market.models import Instrument
from app.market.provider import MarketDataUnavailable, UnknownTickerInRequest
from app.portfolios.dependencies import (
    BOOKS_RESPONSES,
    IdempotentDep,
    PortfolioForCash,
    PortfolioForRead,
)
from app.portfolios.service import PortfolioArchived
from app.state import MarketDep

router = APIRouter(prefix="/portfolios/{slug}/cash", tags=["cash"], responses=BOOKS_RESPONSES)


async def dividend_instrument(
    body: CashCreate,
    _: CurrentUser,
    session: SessionDep,
    market: MarketDep,
) -> Instrument | None:
    """A dividend's ticker, resolved before the portfolio is locked."""
    return await instrument_for(session, market, body.ticker) if body.ticker else None


@router.get("", response_model=CashPage, summary="Cash transactions, newest first, and the balance")
async def list_cash(portfolio: PortfolioForRead, session: SessionDep, page: PageDep) -> CashPage:
    items, total = await service.list_cash(session, portfolio.id, page.limit, page.offset)
    return CashPage(
        items=items,
        total=total,
        limit=page.limit,
        offset=page.offset,
        balance=portfolio.cash_balance,
    )


@router.post(
    "",
    response_model=CashRead,
    status_code=201,
    responses=responses(
        InsufficientCash,
        PortfolioArchived,
        UnknownTickerInRequest,
        IdempotencyKeyReused,
        IdempotencyKeyInFlight,
        MarketDataUnavailable,
    ),
    summary="Record a cash transaction (send an Idempotency-Key to retry safely)",
)
async def record_cash(
    body: CashCreate,
    instrument: Annotated[Instrument | None, Depends(dividend_instrument)],
    portfolio: PortfolioForCash,
    user: CurrentUser,
    session: SessionDep,
    idempotent: IdempotentDep,
) -> JSONResponse:
    run = partial(service.record_cash, session, user, portfolio, instrument, body)
    return await idempotent.post(f"cash:{portfolio.id}", body, run)
