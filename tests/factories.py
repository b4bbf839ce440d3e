"""Small builders for test data."""

import itertools
import uuid
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.portfolios.models import Portfolio
from app.users.models import Team, User
from app.users.service import create_user

PASSWORD = "correct horse battery staple"
_counter = itertools.count()


async def make_user(
    session: AsyncSession,
    role: Role = Role.ANALYST,
    *,
    approved: bool = True,
    team: Team | None = None,
    superuser: bool = False,
) -> User:
    n = f"{next(_counter)}{uuid.uuid4().hex[:6]}"
    user = await create_user(
        session,
        email=f"user{n}@desk.example",
        password=PASSWORD,
        username=f"user{n}",
        full_name=f"User {n}",
        role=role,
        superuser=superuser,
        approved=approved,
    )
    if team is not None:
        user.team_id = team.id
    await session.commit()
    return user


async def make_team(session: AsyncSession, name: str | None = None) -> Team:
    team = Team(name=name or f"Team {uuid.uuid4().hex[:8]}")
    session.add(team)
    await session.commit()
    return team


async def bearer(app: FastAPI, user: User) -> dict[str, str]:
    """Authorization headers with a token our JWT strategy issued for user."""
    token = await app.state.shared.tokens.write_token(user)
    return {"Authorization": f"Bearer {token}"}


async def make_portfolio(
    session: AsyncSession,
    pm: User,
    *,
    team: Team | None = None,
    cash: str = "0",
    allow_short: bool = False,
    allow_negative_cash: bool = False,
) -> Portfolio:
    n = uuid.uuid4().hex[:8]
    portfolio = Portfolio(
        slug=f"fund-{n}",
        name=f"Fund {n}",
        pm_id=pm.id,
        team_id=team.id if team else None,
        cash_balance=Decimal(cash),
        allow_short=allow_short,
        allow_negative_cash=allow_negative_cash,
    )
    session.add(portfolio)
    await session.commit()
    return portfolio
