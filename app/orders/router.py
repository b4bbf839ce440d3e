"""Orders of a portfolio, their pre-trade check, the portfolio's policy, and the paper
broker's run."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy import select

from app.analytics.valuation import settled
from app.auth.dependencies import CsrfFailed, CurrentUser, InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied, Role, acts_as_pm, effective_role
from app.core.database import SessionDep, SessionmakerDep, release_reads
from app.core.errors import InvalidInput, responses
from app.core.pagination import Page, PageDep
from app.core.schemas import PlainInt
from app.ledger.posting import instrument_for
from app.market.models import Instrument
from app.market.provider import MarketDataUnavailable, UnknownTickerInRequest
from app.orders import paper, service
from app.orders.models import OrderStatus
from app.orders.policy import CheckRead, Policy
from app.orders.schemas import (
    OrderEventRead,
    OrderRead,
    OrderRequest,
    OverrideRequest,
    PaperRun,
    PaperRunRead,
)
from app.orders.service import OrderNotFound
from app.orders.states import IllegalTransition
from app.portfolios.dependencies import BOOKS_RESPONSES, PortfolioForRead, portfolio_access
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioArchived, visible_to
from app.state import MarketDep, SettingsDep
from app.users.models import User

router = APIRouter(prefix="/portfolios/{slug}", tags=["orders"], responses=BOOKS_RESPONSES)
broker_router = APIRouter(
    prefix="/broker",
    tags=["orders"],
    responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed),
)

OrderId = Annotated[PlainInt, Path(ge=1, le=2**63 - 1, description="The order's id")]
PortfolioForOrders = Annotated[Portfolio, Depends(portfolio_access(Permission.ORDERS_PLACE))]
PortfolioForCancel = Annotated[
    Portfolio, Depends(portfolio_access(Permission.ORDERS_PLACE, for_update=True))
]
PortfolioForOverride = Annotated[Portfolio, Depends(portfolio_access(Permission.ORDERS_OVERRIDE))]
PortfolioForPolicy = Annotated[
    Portfolio, Depends(portfolio_access(Permission.POLICY_CHANGE, for_update=True))
]


async def order_instrument(
    body: OrderRequest, _: CurrentUser, session: SessionDep, market: MarketDep
) -> Instrument:
    """The order's instrument, asked of the provider the first time, before any lock."""
    return await instrument_for(session, market, body.ticker)


OrderInstrument = Annotated[Instrument, Depends(order_instrument)]


@router.get("/orders", response_model=Page[OrderRead], summary="Orders, newest first")
async def list_orders(
    portfolio: PortfolioForRead,
    session: SessionDep,
    page: PageDep,
    status: OrderStatus | None = None,
    ticker: str | None = None,
) -> Page[OrderRead]:
    items, total = await service.list_orders(
        session, portfolio.id, status, ticker, page.limit, page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/orders",
    response_model=OrderRead,
    status_code=201,
    responses={
        200: {"model": OrderRead, "description": "The order placed before with this id"},
        **responses(UnknownTickerInRequest, PortfolioArchived, MarketDataUnavailable),
    },
    summary="Place an order: checked against the policy, then sent to the broker",
    description=(
        "The check runs every rule of the portfolio's policy at the last close: a hard breach "
        "answers the order `denied`, a soft breach holds it `pending_approval` until the "
        "portfolio's PM overrides it (or sends `override_reason` here). The same "
        "`client_order_id` answers the first order, 200. Orders work from the next bar."
    ),
)
async def place_order(
    body: OrderRequest,
    portfolio: PortfolioForOrders,
    instrument: OrderInstrument,
    user: CurrentUser,
    session: SessionDep,
    market: MarketDep,
) -> JSONResponse:
    if body.override_reason is not None and not acts_as_pm(user, portfolio.pm_id):
        raise PermissionDenied(
            "Only the portfolio's PM may override the policy.",
            details={"permission": Permission.ORDERS_OVERRIDE.value},
        )
    order, placed = await service.place(session, market, portfolio, instrument, body, user.id)
    answer = order.model_dump(mode="json", by_alias=True)
    return JSONResponse(answer, status_code=201 if placed else 200)


@router.post(
    "/orders/check",
    response_model=CheckRead,
    responses=responses(UnknownTickerInRequest, MarketDataUnavailable),
    summary="Run the pre-trade check on an order without placing it",
)
async def check_order(
    body: OrderRequest,
    portfolio: PortfolioForOrders,
    instrument: OrderInstrument,
    session: SessionDep,
    market: MarketDep,
) -> CheckRead:
    return await service.check(session, market, portfolio, instrument, body)


@router.get("/orders/{order_id}", response_model=OrderRead, responses=responses(OrderNotFound))
async def read_order(
    order_id: OrderId, portfolio: PortfolioForRead, session: SessionDep
) -> OrderRead:
    return await service.get(session, portfolio.id, order_id)


@router.get(
    "/orders/{order_id}/events",
    response_model=Page[OrderEventRead],
    responses=responses(OrderNotFound),
    summary="Every change of the order, oldest first",
)
async def list_order_events(
    order_id: OrderId, portfolio: PortfolioForRead, session: SessionDep, page: PageDep
) -> Page[OrderEventRead]:
    items, total = await service.list_events(
        session, portfolio.id, order_id, page.limit, page.offset
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderRead,
    responses=responses(OrderNotFound, IllegalTransition, PortfolioArchived),
    summary="Cancel an order (its fills stay booked)",
)
async def cancel_order(
    order_id: OrderId, portfolio: PortfolioForCancel, user: CurrentUser, session: SessionDep
) -> OrderRead:
    return await service.cancel(session, portfolio, order_id, user.id)


@router.post(
    "/orders/{order_id}/override",
    response_model=OrderRead,
    responses=responses(OrderNotFound, IllegalTransition, PortfolioArchived),
    summary="Accept an order held for a soft breach, with a reason (the portfolio's PM)",
    description="The check runs again on current prices: a hard breach now denies the order.",
)
async def override_order(
    order_id: OrderId,
    body: OverrideRequest,
    portfolio: PortfolioForOverride,
    user: CurrentUser,
    session: SessionDep,
    market: MarketDep,
) -> OrderRead:
    return await service.override(session, market, portfolio, order_id, user.id, body.reason)


@router.get("/policy", response_model=Policy, summary="The portfolio's investment policy")
async def read_policy(portfolio: PortfolioForRead) -> Policy:
    return service.policy_of(portfolio)


@router.put(
    "/policy",
    response_model=Policy,
    responses=responses(PortfolioArchived),
    summary="Replace the investment policy (the portfolio's PM; audited)",
    description="Each rule is `hard` or `soft`; a rule left out is off.",
)
async def change_policy(
    body: Policy, portfolio: PortfolioForPolicy, user: CurrentUser, session: SessionDep
) -> Policy:
    return await service.change_policy(session, user.id, portfolio, body)


@broker_router.post(
    "/paper/run",
    response_model=PaperRunRead,
    responses=responses(InvalidInput, MarketDataUnavailable),
    summary="Fill the paper broker's working orders on the bars up to a date",
    description=(
        "Admins run every portfolio's orders; others, those of the portfolios they may "
        "place orders in. `through` is at most the last final close (the default)."
    ),
)
async def run_paper_broker(
    user: Annotated[User, Depends(require(Permission.ORDERS_PLACE))],
    session: SessionDep,
    sessions: SessionmakerDep,
    market: MarketDep,
    settings: SettingsDep,
    body: PaperRun | None = None,
) -> PaperRunRead:
    last = settled()
    through = (body.through if body else None) or last
    if through > last:
        raise InvalidInput(
            "through is after the last final close.",
            details={"through": through, "last_final_close": last},
        )
    mine = None
    if effective_role(user) is not Role.ADMIN:
        mine = set(await session.scalars(select(Portfolio.id).where(visible_to(user))))
        await release_reads(session)
    return await paper.run(sessions, market, through, settings.paper_commission_rate, mine)
