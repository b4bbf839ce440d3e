"""Admin: approve users, change roles and teams, deactivate, manage teams, read the audit."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from app.audit import service as audit
from app.audit.schemas import AuditEventRead
from app.auth.dependencies import CsrfFailed, InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied, Role
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.pagination import Page, PageDep
from app.core.schemas import StrictBool
from app.users import service
from app.users.models import User
from app.users.schemas import TeamCreate, TeamRead, UserAdminUpdate, UserRead

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed),
)

UserManager = Annotated[User, Depends(require(Permission.USERS_MANAGE))]
AuditReader = Annotated[User, Depends(require(Permission.AUDIT_READ))]


@router.get("/users", response_model=Page[UserRead], summary="List and filter users")
async def list_users(
    _: UserManager,
    session: SessionDep,
    page: PageDep,
    role: Role | None = None,
    team_id: uuid.UUID | None = None,
    approved: StrictBool | None = None,
    is_active: StrictBool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Email, username or name")] = None,
) -> Page[UserRead]:
    f = service.UserFilter(role, team_id, approved, is_active, q)
    users, total = await service.list_users(session, f, page.limit, page.offset)
    items = [UserRead.model_validate(u) for u in users]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/users/{user_id}/approve",
    response_model=UserRead,
    responses=responses(service.UserNotFound),
    summary="Approve a registered account so it can sign in",
)
async def approve_user(user_id: uuid.UUID, admin: UserManager, session: SessionDep) -> User:
    return await service.approve(session, admin, user_id)


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    responses=responses(service.UserNotFound, service.TeamNotFound, service.LastAdmin),
    summary="Change a user's role, team or full name, or (de)activate them",
)
async def update_user(
    user_id: uuid.UUID, body: UserAdminUpdate, admin: UserManager, session: SessionDep
) -> User:
    return await service.update(session, admin, user_id, body)


@router.get("/teams", response_model=Page[TeamRead], summary="List teams")
async def list_teams(_: UserManager, session: SessionDep, page: PageDep) -> Page[TeamRead]:
    teams, total = await service.list_teams(session, page.limit, page.offset)
    items = [TeamRead.model_validate(t) for t in teams]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/teams",
    response_model=TeamRead,
    status_code=201,
    responses=responses(service.TeamExists),
    summary="Create a team",
)
async def create_team(body: TeamCreate, admin: UserManager, session: SessionDep) -> TeamRead:
    return TeamRead.model_validate(await service.create_team(session, admin, body.name))


@router.get("/audit", response_model=Page[AuditEventRead], summary="Read the audit trail")
async def read_audit(
    _: AuditReader,
    session: SessionDep,
    page: PageDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    portfolio_id: uuid.UUID | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Page[AuditEventRead]:
    f = audit.AuditFilter(actor_id, action, object_type, object_id, portfolio_id, since, until)
    items, total = await audit.list_events(session, f, page.limit, page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
