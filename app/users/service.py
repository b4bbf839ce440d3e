"""User and team administration: approval, roles, teams, deactivation — each one audited."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi_users.exceptions import InvalidPasswordException
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record, snapshot
from app.auth.permissions import Role
from app.core.database import utcnow
from app.core.errors import Conflict, NotFound
from app.users.email import ConsoleEmailSender
from app.users.manager import (
    EmailTaken,
    InvalidPassword,
    UserDatabase,
    UserManager,
    end_sessions,
)
from app.users.models import Team, User
from app.users.schemas import UserAdminUpdate

AUDITED_FIELDS = ("email", "username", "full_name", "role", "team_id", "is_active", "approved_at")


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "No such user."


class TeamNotFound(NotFound):
    code = "team_not_found"
    message = "No such team."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "This is the last active admin: make another admin first."


class TeamExists(Conflict):
    code = "team_exists"
    message = "A team with that name exists."


@dataclass(frozen=True)
class UserFilter:
    role: Role | None = None
    team_id: uuid.UUID | None = None
    approved: bool | None = None
    is_active: bool | None = None
    search: str | None = None


async def list_users(
    session: AsyncSession, f: UserFilter, limit: int, offset: int
) -> tuple[list[User], int]:
    conditions = []
    if f.role is not None:
        conditions.append(User.role == f.role)
    if f.team_id is not None:
        conditions.append(User.team_id == f.team_id)
    if f.approved is not None:
        conditions.append(
            User.approved_at.is_not(None) if f.approved else User.approved_at.is_(None)
        )
    if f.is_active is not None:
        conditions.append(User.is_active == f.is_active)
    if f.search:
        pattern = f"%{f.search.lower()}%"
        conditions.append(
            or_(
                func.lower(User.email).like(pattern),
                func.lower(User.username).like(pattern),
                func.lower(User.full_name).like(pattern),
            )
        )
    total = await session.scalar(select(func.count(User.id)).where(*conditions))
    users = await session.scalars(
        select(User)
        .where(*conditions)
        .order_by(User.created_at, User.id)
        .limit(limit)
        .offset(offset)
    )
    return list(users), total or 0


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound(details={"id": str(user_id)})
    return user


async def approve(session: AsyncSession, actor: User | None, user_id: uuid.UUID) -> User:
    """Approve an account; actor None means the command line."""
    user = await get_user(session, user_id)
    if user.approved_at is None:
        before = snapshot(user, AUDITED_FIELDS)
        user.approved_at, user.approved_by = utcnow(), actor.id if actor else None
        await session.flush()
        await _audit(session, actor, "user.approve", user, before)
    return user


async def update(
    session: AsyncSession, actor: User, user_id: uuid.UUID, changes: UserAdminUpdate
) -> User:
    user = await get_user(session, user_id)
    # null leaves a field as it is, except the team, where it means "no team"
    values = {
        field: value
        for field, value in changes.model_dump(exclude_unset=True).items()
        if value is not None or field == "team_id"
    }
    if values.get("team_id") is not None:
        await get_team(session, values["team_id"])
    before = snapshot(user, AUDITED_FIELDS)
    changes_access = any(
        field in values and values[field] != getattr(user, field) for field in ("role", "is_active")
    )
    if changes_access and _is_admin(user) and not _stays_admin(values, user):
        await _keep_an_admin(session, user)
    for field, value in values.items():
        setattr(user, field, value)
    if changes_access:
        # A superuser given another role stops being one: the role is what they may do.
        user.is_superuser = user.is_superuser and user.role is Role.ADMIN
        end_sessions(user)
    await session.flush()
    await _audit(session, actor, "user.update", user, before)
    return user


def _is_admin(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role is Role.ADMIN)


def _stays_admin(values: dict[str, Any], user: User) -> bool:
    return values.get("is_active", user.is_active) and values.get("role", user.role) is Role.ADMIN


async def _keep_an_admin(session: AsyncSession, leaving: User) -> None:
    """Refuse to demote or deactivate the last active admin (the others are locked meanwhile,
    so two admins cannot demote each other at once)."""
    others = await session.scalars(
        select(User.id)
        .where(
            User.id != leaving.id,
            User.is_active,
            User.approved_at.is_not(None),
            or_(User.role == Role.ADMIN, User.is_superuser),
        )
        .with_for_update()
    )
    if not others.first():
        raise LastAdmin(details={"id": str(leaving.id)})


async def _audit(
    session: AsyncSession, actor: User | None, action: str, user: User, before: dict[str, Any]
) -> None:
    await record(
        session,
        actor_id=actor.id if actor else None,
        action=action,
        object_type="user",
        object_id=user.id,
        before=before,
        after=snapshot(user, AUDITED_FIELDS),
    )


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise TeamNotFound(details={"id": str(team_id)})
    return team


async def list_teams(session: AsyncSession, limit: int, offset: int) -> tuple[list[Team], int]:
    total = await session.scalar(select(func.count(Team.id)))
    teams = await session.scalars(select(Team).order_by(Team.name).limit(limit).offset(offset))
    return list(teams), total or 0


async def create_team(session: AsyncSession, actor: User | None, name: str) -> Team:
    team = Team(name=name)
    try:
        async with session.begin_nested():
            session.add(team)
    except IntegrityError as exc:
        raise TeamExists(details={"name": name}) from exc
    await record(
        session,
        actor_id=actor.id if actor else None,
        action="team.create",
        object_type="team",
        object_id=team.id,
        after={"name": name},
    )
    return team


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    username: str,
    full_name: str = "",
    role: Role = Role.VIEWER,
    superuser: bool = False,
    approved: bool = True,
) -> User:
    """Create an account outside registration (command line, bootstrap, demo data)."""
    user_db = UserDatabase(session, User)
    manager = UserManager(user_db, "", ConsoleEmailSender())
    if await session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise EmailTaken(details={"email": email})
    user = User(
        email=email,
        hashed_password="",
        username=username,
        full_name=full_name,
        role=Role.ADMIN if superuser else role,
        is_superuser=superuser,
        is_verified=True,
        approved_at=utcnow() if approved else None,
    )
    try:
        await manager.validate_password(password, user)
    except InvalidPasswordException as exc:
        raise InvalidPassword(str(exc.reason)) from exc
    user.hashed_password = manager.password_helper.hash(password)
    await user_db.create_user(user)
    await record(
        session,
        actor_id=None,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after=snapshot(user, AUDITED_FIELDS),
    )
    return user
