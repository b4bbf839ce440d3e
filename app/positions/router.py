"""Positions and lots: what a portfolio holds, each the fold of its booked trades."""

from fastapi import APIRouter, Query

from app.analytics.schemas import money
from app.analytics.valuation import last_closes, mark
from app.core.database import SessionDep, utcnow
from app.core.errors import InvalidInput, responses
from app.core.pagination import Page, PageDep
from app.core.schemas import IsoDate, StrictBool
from app.market.calendar import new_york_date
from app.portfolios.dependencies import BOOKS_RESPONSES, PortfolioForRead
from app.portfolios.schemas import Ticker
from app.positions import service
from app.positions.schemas import ClosedLotRead, LotRead, PositionRead
from app.state import MarketDep

router = APIRouter(prefix="/portfolios/{slug}", tags=["positions"], responses=BOOKS_RESPONSES)


class InvalidRange(InvalidInput):
    code = "invalid_range"
    message = "The start is after the end."


@router.get(
    "/positions",
    response_model=Page[PositionRead],
    summary="Positions, by ticker, valued at their latest stored close",
    description="`weight` is market value over NAV, a fraction; null values have no price.",
)
async def list_positions(
    portfolio: PortfolioForRead,
    session: SessionDep,
    page: PageDep,
    market: MarketDep,
    include_closed: StrictBool = False,
) -> Page[PositionRead]:
    await service.with_actions(session, market, portfolio)
    rows = await service.list_positions(session, portfolio.id, include_closed=include_closed)
    rows = await mark(session, market, portfolio, rows)
    items = [PositionRead.model_validate(r) for r in rows[page.offset : page.offset + page.limit]]
    return Page(items=items, total=len(rows), limit=page.limit, offset=page.offset)


@router.get(
    "/lots",
    response_model=Page[LotRead],
    summary="Open lots, oldest first by ticker, valued at their latest stored close",
    description=(
        "Every buy opens a lot and sells close them oldest first (a short sale opens a short "
        "lot, with a negative quantity, that buys close). Under the `average` cost method "
        "each lot carries the position's average cost; under `fifo` its own, fees included."
    ),
)
async def list_lots(
    portfolio: PortfolioForRead,
    session: SessionDep,
    page: PageDep,
    market: MarketDep,
    ticker: Ticker | None = None,
) -> Page[LotRead]:
    await service.with_actions(session, market, portfolio)
    lots = await service.open_lots(session, portfolio, ticker, new_york_date(utcnow()))
    shown = lots[page.offset : page.offset + page.limit]
    closes = await last_closes(
        session, market, {lot["instrument_id"]: lot["ticker"] for lot in shown}
    )
    items = []
    for lot in shown:
        price = closes.get(lot["instrument_id"])
        value = lot["quantity"] * price if price is not None else None
        items.append(
            LotRead(
                **lot,
                last_price=price,
                market_value=money(value),
                unrealized_pnl=money(value - lot["cost"]) if value is not None else None,
            )
        )
    return Page(items=items, total=len(lots), limit=page.limit, offset=page.offset)


@router.get(
    "/realized",
    response_model=Page[ClosedLotRead],
    responses=responses(InvalidRange),
    summary="Closed lots with their gains, by close date",
    description=(
        "Each piece of a lot a trade closed: open and close dates, quantity (negative for a "
        "short), what was paid (`cost`) and received (`proceeds`), fees included, `gain`, and "
        "`term`: `short` when held at most 365 days, else `long`. Gains follow the "
        "portfolio's cost method."
    ),
)
async def list_realized(
    portfolio: PortfolioForRead,
    session: SessionDep,
    page: PageDep,
    market: MarketDep,
    start: IsoDate | None = Query(None, description="First close date"),
    end: IsoDate | None = Query(None, description="Last close date"),
) -> Page[ClosedLotRead]:
    if start is not None and end is not None and start > end:
        raise InvalidRange(details={"start": start.isoformat(), "end": end.isoformat()})
    await service.with_actions(session, market, portfolio)
    closed = await service.closed_lots(session, portfolio, start, end)
    items = [
        ClosedLotRead(
            ticker=ticker,
            open_trade_id=lot.open_trade_id,
            close_trade_id=lot.close_trade_id,
            open_date=lot.open_date,
            close_date=lot.close_date,
            quantity=lot.quantity,
            cost=lot.cost,
            proceeds=lot.proceeds,
            gain=lot.gain,
            term=lot.term,
        )
        for ticker, lot in closed[page.offset : page.offset + page.limit]
    ]
    return Page(items=items, total=len(closed), limit=page.limit, offset=page.offset)
