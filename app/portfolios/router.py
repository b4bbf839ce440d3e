"""Portfolios: create, list, read, update, archive, members."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth.dependencies import CsrfFailed, CurrentUser, InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.pagination import Page, PageDep
from app.core.schemas import StrictBool
from app.ledger import posting
from app.portfolios import service
from app.portfolios.dependencies import portfolio_access
from app.portfolios.models import Portfolio
from app.portfolios.schemas import (
    MemberAdd,
    MemberRead,
    PortfolioCreate,
    PortfolioRead,
    PortfolioUpdate,
)
from app.users.models import User
from app.users.service import TeamNotFound

router = APIRouter(
    prefix="/portfolios",
    tags=["portfolios"],
    responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed),
)

Reader = Annotated[User, Depends(require(Permission.PORTFOLIOS_READ))]
Creator = Annotated[User, Depends(require(Permission.PORTFOLIOS_CREATE))]
ForRead = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_READ))]
ForUpdate = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_UPDATE))]
ForArchive = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_ARCHIVE))]
ForMembers = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_MEMBERS))]
NOT_FOUND = responses(service.PortfolioNotFound)


@router.get("", response_model=Page[PortfolioRead], summary="Portfolios you may see")
async def list_portfolios(
    user: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=120, description="Part of the name")] = None,
    team_id: uuid.UUID | None = None,
    include_archived: StrictBool = False,
) -> Page[PortfolioRead]:
    f = service.PortfolioFilter(q, team_id, include_archived)
    rows, total = await service.list_visible(session, user, f, page.limit, page.offset)
    items = [PortfolioRead.model_validate(p) for p in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "",
    response_model=PortfolioRead,
    status_code=201,
    responses=responses(service.PortfolioExists, service.InvalidMember, TeamNotFound),
    summary="Create a portfolio; you become its PM",
)
async def create_portfolio(body: PortfolioCreate, user: Creator, session: SessionDep) -> Portfolio:
    return await service.create(session, user, body)


@router.get("/{slug}", response_model=PortfolioRead, responses=NOT_FOUND)
async def read_portfolio(portfolio: ForRead) -> Portfolio:
    return portfolio


@router.patch(
    "/{slug}",
    response_model=PortfolioRead,
    responses=NOT_FOUND
    | responses(
        service.PortfolioExists, service.PortfolioArchived, service.InvalidMember, TeamNotFound
    ),
    summary="Change a portfolio's settings (its PM; PM and team: admins)",
)
async def update_portfolio(
    body: PortfolioUpdate, portfolio: ForUpdate, user: CurrentUser, session: SessionDep
) -> Portfolio:
    method = portfolio.cost_method
    updated = await service.update(session, user, portfolio, body)
    if updated.cost_method != method:
        await posting.refold(session, updated, as_booked=True)
    return updated


@router.delete(
    "/{slug}",
    response_model=PortfolioRead,
    responses=NOT_FOUND | responses(service.PortfolioArchived),
    summary="Archive a portfolio: it becomes read-only and leaves the default list",
)
async def archive_portfolio(
    portfolio: ForArchive, user: CurrentUser, session: SessionDep
) -> Portfolio:
    return await service.archive(session, user, portfolio)


@router.get("/{slug}/members", response_model=list[MemberRead], responses=NOT_FOUND)
async def list_members(portfolio: ForRead, session: SessionDep) -> list[MemberRead]:
    return [MemberRead(**m) for m in await service.list_members(session, portfolio)]


@router.post(
    "/{slug}/members",
    status_code=204,
    responses=NOT_FOUND | responses(service.InvalidMember, service.PortfolioArchived),
    summary="Add a member",
)
async def add_member(
    body: MemberAdd, portfolio: ForMembers, user: CurrentUser, session: SessionDep
) -> Response:
    await service.add_member(session, user, portfolio, body.user_id)
    return Response(status_code=204)


@router.delete(
    "/{slug}/members/{user_id}",
    status_code=204,
    responses=NOT_FOUND | responses(service.PortfolioArchived),
    summary="Remove a member",
)
async def remove_member(
    user_id: uuid.UUID, portfolio: ForMembers, user: CurrentUser, session: SessionDep
) -> Response:
    await service.remove_member(session, user, portfolio, user_id)
    return Response(status_code=204)
