"""Positions: what a portfolio holds, each the fold of its booked trades."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.analytics.valuation import mark
from app.auth.dependencies import InvalidCredentials, PermissionDenied
from app.auth.permissions import Permission
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.pagination import Page, PageDep
from app.portfolios.dependencies import portfolio_access
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioNotFound
from app.positions import service
from app.positions.schemas import PositionRead

router = APIRouter(
    prefix="/portfolios/{slug}/positions",
    tags=["positions"],
    responses=responses(InvalidCredentials, PermissionDenied, PortfolioNotFound),
)

ForRead = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_READ))]


@router.get(
    "",
    response_model=Page[PositionRead],
    summary="Positions, by ticker, valued at their latest stored close",
    description="`weight` is market value over NAV, a fraction; null values have no price.",
)
async def list_positions(
    portfolio: ForRead,
    session: SessionDep,
    page: PageDep,
    request: Request,
    include_closed: bool = False,
) -> Page[PositionRead]:
    rows = await service.list_positions(session, portfolio.id, include_closed=include_closed)
    rows = await mark(session, request.app.state.market_data, portfolio, rows)
    items = [PositionRead.model_validate(r) for r in rows[page.offset : page.offset + page.limit]]
    return Page(items=items, total=len(rows), limit=page.limit, offset=page.offset)
