"""Cash: deposits, withdrawals, dividends, interest and fees."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.auth.dependencies import CsrfFailed, CurrentUser, InvalidCredentials, PermissionDenied
from app.auth.permissions import Permission
from app.cash import service
from app.cash.schemas import CashCreate, CashPage, CashRead
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.idempotency import (
    IdempotencyKeyHeader,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    idempotent_post,
)
from app.core.pagination import PageDep
from app.market.provider import MarketDataUnavailable, UnknownTickerInBooking
from app.portfolios.dependencies import portfolio_access
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioArchived, PortfolioNotFound
from app.trades.booking import InsufficientCash

router = APIRouter(
    prefix="/portfolios/{slug}/cash",
    tags=["cash"],
    responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed, PortfolioNotFound),
)

ForRead = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_READ))]
ForBooking = Annotated[Portfolio, Depends(portfolio_access(Permission.CASH_CREATE))]


@router.get("", response_model=CashPage, summary="Cash transactions, newest first, and the balance")
async def list_cash(portfolio: ForRead, session: SessionDep, page: PageDep) -> CashPage:
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
        UnknownTickerInBooking,
        IdempotencyKeyReused,
        IdempotencyKeyInFlight,
        MarketDataUnavailable,
    ),
    summary="Record a cash transaction (send an Idempotency-Key to retry safely)",
)
async def record_cash(
    body: CashCreate,
    portfolio: ForBooking,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    market = request.app.state.market_data
    return await idempotent_post(
        session,
        user.id,
        idempotency_key,
        f"cash:{portfolio.id}",
        body,
        201,
        lambda: service.record_cash(session, market, user, portfolio.id, body),
    )
