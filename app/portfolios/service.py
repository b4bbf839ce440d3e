"""Portfolios and their members: who may see them, and every change audited."""

import uuid
from dataclasses import dataclass
from typing import Any

from slugify import slugify
from sqlalchemy import Select, Uuid, bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record, snapshot
from app.auth.permissions import PermissionDenied, Role, effective_role
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.portfolios.models import Portfolio, PortfolioMember
from app.portfolios.schemas import PortfolioCreate, PortfolioUpdate
from app.users.models import User
from app.users.service import get_team

AUDITED = (
    "slug",
    "name",
    "description",
    "base_currency",
    "pm_id",
    "team_id",
    "allow_short",
    "allow_negative_cash",
    "benchmark",
    "cost_method",
    "auto_book_dividends",
    "archived_at",
)


class PortfolioNotFound(NotFound):
    code = "portfolio_not_found"
    message = "No such portfolio."


class PortfolioExists(Conflict):
    code = "portfolio_exists"
    message = "A portfolio with that name or slug exists."


class PortfolioArchived(Conflict):
    code = "portfolio_archived"
    message = "The portfolio is archived and read-only."


class InvalidMember(InvalidInput):
    code = "invalid_member"
    message = "That user cannot be a member."


# Who may see a portfolio: its PM, a member, or its team (a null team matches none).
_VISIBLE = or_(
    Portfolio.pm_id == bindparam("user_id", type_=Uuid),
    exists().where(
        PortfolioMember.portfolio_id == Portfolio.id,
        PortfolioMember.user_id == bindparam("user_id", type_=Uuid),
    ),
    Portfolio.team_id == bindparam("team_id", type_=Uuid),
)
_BY_SLUG = select(Portfolio).where(Portfolio.slug == bindparam("slug"))
_VISIBLE_BY_SLUG = _BY_SLUG.where(_VISIBLE)


def _viewer(user: User) -> dict[str, Any]:
    return {"user_id": user.id, "team_id": user.team_id}


def visible_to(user: User) -> Any:
    """The condition under which `user` may see a portfolio."""
    if effective_role(user) is Role.ADMIN:
        return True
    return _VISIBLE.params(_viewer(user))


async def visible_ids(session: AsyncSession, user: User, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the portfolios `user` may see."""
    if not ids:
        return set()
    query = select(Portfolio.id).where(Portfolio.id.in_(ids), visible_to(user))
    return set(await session.scalars(query))


_LOCKED = {
    query: query.with_for_update(of=Portfolio).execution_options(populate_existing=True)
    for query in (_BY_SLUG, _VISIBLE_BY_SLUG)
}


async def get_visible(
    session: AsyncSession, user: User, slug: str, *, for_update: bool = False
) -> Portfolio:
    """The portfolio if `user` may see it; with `for_update`, locked in the same statement."""
    query = _BY_SLUG if effective_role(user) is Role.ADMIN else _VISIBLE_BY_SLUG
    parameters = {"slug": slug} | _viewer(user)
    portfolio = await session.scalar(_LOCKED[query] if for_update else query, parameters)
    if portfolio is None:
        raise PortfolioNotFound(details={"slug": slug})
    return portfolio


async def lock(session: AsyncSession, portfolio_id: uuid.UUID) -> Portfolio:
    """The portfolio row, locked for this transaction: its writes happen one at a time."""
    await session.flush()  # the reload below must not drop this session's pending changes
    portfolio = await session.scalar(
        select(Portfolio)
        .where(Portfolio.id == portfolio_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if portfolio is None:
        raise PortfolioNotFound
    if portfolio.archived_at is not None:
        raise PortfolioArchived(details={"slug": portfolio.slug})
    return portfolio


@dataclass(frozen=True)
class PortfolioFilter:
    search: str | None = None
    team_id: uuid.UUID | None = None
    include_archived: bool = False


def _listing(query: Select[Any], user: User, f: PortfolioFilter) -> Select[Any]:
    query = query.where(visible_to(user))
    if not f.include_archived:
        query = query.where(Portfolio.archived_at.is_(None))
    if f.team_id is not None:
        query = query.where(Portfolio.team_id == f.team_id)
    if f.search:
        query = query.where(func.lower(Portfolio.name).like(f"%{f.search.lower()}%"))
    return query


async def list_visible(
    session: AsyncSession, user: User, f: PortfolioFilter, limit: int, offset: int
) -> tuple[list[Portfolio], int]:
    total = await session.scalar(_listing(select(func.count(Portfolio.id)), user, f))
    rows = await session.scalars(
        _listing(select(Portfolio), user, f).order_by(Portfolio.name).limit(limit).offset(offset)
    )
    return list(rows), total or 0


async def create(session: AsyncSession, user: User, data: PortfolioCreate) -> Portfolio:
    admin = effective_role(user) is Role.ADMIN
    if data.pm_id not in (None, user.id) and not admin:
        raise PermissionDenied("Only an admin may name another user as PM.")
    if data.team_id not in (None, user.team_id) and not admin:
        raise PermissionDenied("Only an admin may put a portfolio in another team.")
    pm_id = data.pm_id or user.id
    if pm_id != user.id:
        await _active_user(session, pm_id)
    if data.team_id is not None:
        await get_team(session, data.team_id)
    portfolio = Portfolio(
        slug=data.slug or slugify(data.name, max_length=80) or uuid.uuid4().hex[:12],
        name=data.name,
        description=data.description,
        base_currency=data.base_currency,
        pm_id=pm_id,
        team_id=data.team_id or user.team_id,
        allow_short=data.allow_short,
        allow_negative_cash=data.allow_negative_cash,
        benchmark=data.benchmark,
        cost_method=data.cost_method,
        auto_book_dividends=data.auto_book_dividends,
    )
    await _flush_unique(session, portfolio)
    await record(
        session,
        actor_id=user.id,
        action="portfolio.create",
        object_type="portfolio",
        object_id=portfolio.id,
        portfolio_id=portfolio.id,
        after=snapshot(portfolio, AUDITED),
    )
    return portfolio


async def update(
    session: AsyncSession, user: User, portfolio: Portfolio, changes: PortfolioUpdate
) -> Portfolio:
    values = changes.model_dump(exclude_unset=True)
    if {"pm_id", "team_id"} & values.keys() and effective_role(user) is not Role.ADMIN:
        raise PermissionDenied("Only an admin may change a portfolio's PM or team.")
    if values.get("pm_id") is not None:
        await _active_user(session, values["pm_id"])
    if values.get("team_id") is not None:
        await get_team(session, values["team_id"])
    locked = await lock(session, portfolio.id)
    before = snapshot(locked, AUDITED)
    for field, value in values.items():
        if value is not None or field == "team_id":
            setattr(locked, field, value)
    await _flush_unique(session, locked)
    await _audit(session, user, "portfolio.update", locked, before)
    return locked


async def archive(session: AsyncSession, user: User, portfolio: Portfolio) -> Portfolio:
    locked = await lock(session, portfolio.id)
    before = snapshot(locked, AUDITED)
    locked.archived_at = utcnow()
    await session.flush()
    await _audit(session, user, "portfolio.archive", locked, before)
    return locked


async def _audit(
    session: AsyncSession, user: User, action: str, p: Portfolio, before: dict[str, Any]
) -> None:
    await record(
        session,
        actor_id=user.id,
        action=action,
        object_type="portfolio",
        object_id=p.id,
        portfolio_id=p.id,
        before=before,
        after=snapshot(p, AUDITED),
    )


async def _flush_unique(session: AsyncSession, portfolio: Portfolio) -> None:
    # Read before flushing: a failed flush expires the row, and reloading it then fails.
    details = {"name": portfolio.name, "slug": portfolio.slug}
    try:
        async with session.begin_nested():
            session.add(portfolio)
    except IntegrityError as exc:
        raise PortfolioExists(details=details) from exc


async def _active_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidMember(details={"user_id": str(user_id)})
    return user


async def list_members(session: AsyncSession, portfolio: Portfolio) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(User.id, User.username, User.full_name, User.role, PortfolioMember.added_at)
        .join(PortfolioMember, PortfolioMember.user_id == User.id)
        .where(PortfolioMember.portfolio_id == portfolio.id)
        .order_by(User.username)
    )
    return [
        {
            "user_id": r.id,
            "username": r.username,
            "full_name": r.full_name,
            "role": r.role.value,
            "added_at": r.added_at,
        }
        for r in rows
    ]


async def add_member(
    session: AsyncSession, actor: User, portfolio: Portfolio, user_id: uuid.UUID
) -> None:
    await lock(session, portfolio.id)
    await _active_user(session, user_id)
    if await session.get(PortfolioMember, (portfolio.id, user_id)) is None:
        session.add(PortfolioMember(portfolio_id=portfolio.id, user_id=user_id, added_by=actor.id))
        await session.flush()
        await record(
            session,
            actor_id=actor.id,
            action="portfolio.member_add",
            object_type="membership",
            object_id=user_id,
            portfolio_id=portfolio.id,
            after={"user_id": str(user_id)},
        )


async def remove_member(
    session: AsyncSession, actor: User, portfolio: Portfolio, user_id: uuid.UUID
) -> None:
    await lock(session, portfolio.id)
    member = await session.get(PortfolioMember, (portfolio.id, user_id))
    if member is None:
        raise NotFound("That user is not a member.", code="member_not_found")
    await session.delete(member)
    await session.flush()
    await record(
        session,
        actor_id=actor.id,
        action="portfolio.member_remove",
        object_type="membership",
        object_id=user_id,
        portfolio_id=portfolio.id,
        before={"user_id": str(user_id)},
    )
