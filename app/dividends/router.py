"""Dividends a portfolio is entitled to: listed (proposed afresh on each read), booked or
dismissed."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import CurrentUser
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.pagination import Page, PageDep
from app.core.schemas import PlainInt
from app.dividends import service
from app.dividends.schemas import DividendRead
from app.ledger.dividends import DividendNotFound, DividendNotProposed, DividendNotYetPaid
from app.ledger.models import DividendStatus
from app.portfolios.dependencies import BOOKS_RESPONSES, PortfolioForDividends, PortfolioForRead
from app.portfolios.service import PortfolioArchived
from app.state import MarketDep

DividendId = Annotated[PlainInt, Path(ge=1, le=2**63 - 1, description="The dividend's id")]

router = APIRouter(
    prefix="/portfolios/{slug}/dividends", tags=["dividends"], responses=BOOKS_RESPONSES
)


@router.get(
    "",
    response_model=Page[DividendRead],
    summary="Dividends the portfolio is entitled to, newest ex-date first",
    description=(
        "Each cash dividend of a held ticker becomes a proposal: the split-adjusted quantity "
        "held at the close before the ex-date x the cash a share, dated the pay date. A PM "
        "books it (a `dividend` cash transaction) or dismisses it; one already booked by hand "
        "(a dividend of the ticker from the ex-date to ten days after the pay date) is "
        "`matched`. With `auto_book_dividends` the portfolio books them on their pay date."
    ),
)
async def list_dividends(
    portfolio: PortfolioForRead,
    session: SessionDep,
    market: MarketDep,
    page: PageDep,
    status: DividendStatus | None = None,
) -> Page[DividendRead]:
    items, total = await service.list_dividends(
        session, market, portfolio, status, page.limit, page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/{dividend_id}/book",
    response_model=DividendRead,
    responses=responses(
        DividendNotFound, DividendNotProposed, DividendNotYetPaid, PortfolioArchived
    ),
    summary="Book a proposed dividend as cash (the portfolio's PM)",
)
async def book_dividend(
    dividend_id: DividendId,
    portfolio: PortfolioForDividends,
    user: CurrentUser,
    session: SessionDep,
) -> DividendRead:
    return await service.book(session, user, portfolio, dividend_id)


@router.post(
    "/{dividend_id}/dismiss",
    response_model=DividendRead,
    responses=responses(DividendNotFound, DividendNotProposed, PortfolioArchived),
    summary="Dismiss a proposed dividend (the portfolio's PM)",
)
async def dismiss_dividend(
    dividend_id: DividendId,
    portfolio: PortfolioForDividends,
    user: CurrentUser,
    session: SessionDep,
) -> DividendRead:
    return await service.dismiss(session, user, portfolio, dividend_id)
